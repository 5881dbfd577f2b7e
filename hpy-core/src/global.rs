//! `Global` (`HPyGlobal`): a reference kept by the module across calls.

use crate::context::Context;
use crate::handle::Handle;
use crate::raw;
use core::cell::UnsafeCell;
use hpy_sys::HPyGlobal;

/// A module-level reference to a Python object that outlives calls, such as
/// a type created at module initialisation. Declare it as a `static`; it
/// starts empty.
///
/// ```ignore
/// static CACHE: hpy_core::Global = hpy_core::Global::new();
/// ```
pub struct Global(UnsafeCell<HPyGlobal>);

// SAFETY: the runtime reads and writes the cell only through the context
// functions below, which run with the interpreter held, one thread at a time.
unsafe impl Sync for Global {}

impl Global {
    /// An empty global.
    pub const fn new() -> Global {
        Global(UnsafeCell::new(HPyGlobal { _i: 0 }))
    }

    /// The raw `HPyGlobal *` (for the module definition's `globals` list).
    #[doc(hidden)]
    pub fn as_ptr(&self) -> *mut HPyGlobal {
        self.0.get()
    }

    /// True if nothing was stored yet.
    pub fn is_empty(&self) -> bool {
        // SAFETY: a plain read of the handle value; writers hold the
        // interpreter, and so does every reader that can observe a change.
        unsafe { (*self.0.get())._i == 0 }
    }

    /// Keeps a reference to `value` (replacing what was stored).
    #[doc(alias = "HPyGlobal_Store")]
    pub fn store(&self, value: &Handle<'_>) {
        let ctx = value.context();
        // SAFETY: a live context, a pointer to this global's cell and an
        // open handle; the interpreter serialises stores.
        unsafe { raw::ctx_Global_Store(ctx.as_ptr(), self.0.get(), value.raw()) }
    }

    /// A new handle to the stored object, or `None` if nothing was stored.
    #[doc(alias = "HPyGlobal_Load")]
    pub fn load<'c>(&self, ctx: Context<'c>) -> Option<Handle<'c>> {
        if self.is_empty() {
            return None;
        }
        // SAFETY: a live context and a global that was stored into.
        let h = unsafe { raw::ctx_Global_Load(ctx.as_ptr(), *self.0.get()) };
        Handle::from_result(ctx, h).ok()
    }
}

impl Default for Global {
    fn default() -> Self {
        Global::new()
    }
}
