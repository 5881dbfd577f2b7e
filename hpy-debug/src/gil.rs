//! The GIL is the debug context's lock. Its state (the handle table, the
//! context pool, builders, trackers, pooled raw-data pages) lives with the
//! interpreter, and every way into it holds the GIL: an extension calls a
//! context function only with the GIL held (HPy's contract; the two members
//! that run without it, `LeavePythonExecution`/`ReenterPythonExecution`,
//! touch no state), the trampoline dispatch runs inside a call from Python,
//! and the Python face (`hpy.universal._debug`) and the loader are Python
//! code. So the state needs no lock of its own: a [`GilCell`] hands out the
//! value to the code that holds the GIL.

use std::cell::UnsafeCell;

/// A value only touched with the GIL held (see the module's text). Debug
/// builds check that the GIL is held and that no access re-enters another.
pub(crate) struct GilCell<T> {
    value: UnsafeCell<T>,
    #[cfg(debug_assertions)]
    busy: std::sync::atomic::AtomicBool,
}

// SAFETY: every access goes through `with`, whose callers hold the GIL (the
// invariant of this module: each entry into the debug context holds it), so
// accesses from different threads are serialised by the GIL and the value
// never moves between threads without it.
unsafe impl<T> Sync for GilCell<T> {}

impl<T> GilCell<T> {
    pub(crate) const fn new(value: T) -> GilCell<T> {
        GilCell {
            value: UnsafeCell::new(value),
            #[cfg(debug_assertions)]
            busy: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Runs `f` on the value. `f` must not call back into Python or into
    /// code that uses the same cell (debug builds check the latter).
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(debug_assertions)]
        {
            use std::sync::atomic::Ordering::Relaxed;
            debug_assert!(gil_held(), "debug-mode state touched without the GIL");
            assert!(
                !self.busy.swap(true, Relaxed),
                "re-entrant use of debug-mode state"
            );
        }
        // SAFETY: the GIL is held (module invariant), so no other thread is
        // inside `with`; on this thread `f` does not re-enter this cell (its
        // contract, checked above in debug builds), so the `&mut` is unique.
        let r = f(unsafe { &mut *self.value.get() });
        #[cfg(debug_assertions)]
        self.busy.store(false, std::sync::atomic::Ordering::Relaxed);
        r
    }
}

/// True if this thread holds the GIL (or no interpreter runs: the crate's
/// unit tests, which serialise themselves with [`TEST_GIL`]).
#[cfg(debug_assertions)]
fn gil_held() -> bool {
    // SAFETY: PyGILState_Check has no preconditions (it answers 1 before
    // the interpreter is initialised).
    unsafe { pyo3_ffi::PyGILState_Check() != 0 }
}

/// What the GIL is to the unit tests, which run on parallel threads without
/// an interpreter: every test touching the debug state holds it.
#[cfg(test)]
pub(crate) static TEST_GIL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes [`TEST_GIL`] (a panicked test does not poison the others).
#[cfg(test)]
pub(crate) fn test_gil() -> std::sync::MutexGuard<'static, ()> {
    TEST_GIL.lock().unwrap_or_else(|e| e.into_inner())
}
