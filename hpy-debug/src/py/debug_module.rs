//! `hpy.debug._debug` (`hpy.universal._debug`): the debug context's handles
//! as `DebugHandle`s, by generation, and its settings. `python/hpy/debug`
//! and upstream's tests call it.

use super::debug_handle::DebugHandle;
use super::PyRef;
use crate::handles::HandleRef;
use hpy_core::prelude::*;
use hpy_core::ListBuilder;
use pyo3_ffi as ffi;

/// A new list of `DebugHandle`s, one per handle of `handles`.
fn list_of(ctx: Context<'_>, handles: Vec<HandleRef>) -> HPyResult<Handle<'_>> {
    let ty = hpy_core::type_object::<DebugHandle>(ctx)?;
    let mut list = ListBuilder::new(ctx, handles.len());
    for (i, h) in handles.into_iter().enumerate() {
        list.set(i, hpy_core::new_object_of(&ty, DebugHandle::new(h))?);
    }
    list.build()
}

/// Starts a new generation of handles and returns its number: handles opened
/// from now on belong to it.
#[hpy_def]
fn new_generation() -> u64 {
    crate::new_generation()
}

/// The open handles of generation `gen` or later, oldest first.
#[hpy_def]
fn get_open_handles(ctx: Context<'_>, gen: i64) -> HPyResult<Handle<'_>> {
    list_of(ctx, crate::open_handles(gen.max(0) as u64))
}

/// The closed handles still in the queue of closed handles, of generation
/// `gen` or later (all of them without `gen`), oldest first.
#[hpy_def(signature = (gen = None, /))]
fn get_closed_handles(ctx: Context<'_>, gen: Option<i64>) -> HPyResult<Handle<'_>> {
    list_of(ctx, crate::closed_handles(gen.unwrap_or(0).max(0) as u64))
}

/// The maximum length of the queue of closed handles.
#[hpy_def]
fn get_closed_handles_queue_max_size() -> usize {
    crate::closed_handles_queue_max_size()
}

/// Sets the maximum length of the queue of closed handles.
#[hpy_def]
fn set_closed_handles_queue_max_size(size: usize) {
    crate::set_closed_handles_queue_max_size(size)
}

/// The maximum number of bytes of raw data kept (unreadable) for closed
/// handles.
#[hpy_def]
fn get_protected_raw_data_max_size() -> usize {
    crate::protected_raw_data_max_size()
}

/// Sets the maximum number of bytes of raw data kept for closed handles.
#[hpy_def]
fn set_protected_raw_data_max_size(size: usize) {
    crate::set_protected_raw_data_max_size(size)
}

/// Hands a callback object to one of the debug context's setters: `None`
/// clears it (NULL), a callable sets it, anything else is a `TypeError`.
fn set_callback(callback: &Handle<'_>, set: unsafe fn(*mut ffi::PyObject)) -> HPyResult<()> {
    let obj = if callback.is_none() {
        PyRef::NULL
    } else if callback.is_callable() {
        PyRef::of(callback)?
    } else {
        return Err(exc::TypeError::new_err(
            "Expected a callable object or None",
        ));
    };
    // SAFETY: called from Python (interpreter lock held); NULL or a live
    // callable, of which the debug context takes a reference.
    unsafe { set(obj.as_ptr()) };
    Ok(())
}

/// Sets the function called (with no argument) when an invalid handle is
/// used, instead of a fatal error; None restores the fatal error.
#[hpy_def]
fn set_on_invalid_handle(callback: &Handle<'_>) -> HPyResult<()> {
    set_callback(callback, crate::set_on_invalid_handle)
}

/// Sets the function called (with no argument) when an invalid builder
/// handle is used, instead of a fatal error; None restores the fatal error.
#[hpy_def]
fn set_on_invalid_builder_handle(callback: &Handle<'_>) -> HPyResult<()> {
    set_callback(callback, crate::set_on_invalid_builder_handle)
}

/// Records the C stack (at most `limit` frames) where each handle is opened
/// from now on; None (or 0) stops recording.
#[hpy_def]
fn set_handle_stack_trace_limit(limit: Option<i64>) {
    crate::set_handle_stack_trace_limit(limit.map(|n| n.max(0) as usize))
}

/// HPy debug mode: the debug context's handles and settings.
#[hpy_module]
mod _debug {
    pub use super::{
        get_closed_handles, get_closed_handles_queue_max_size, get_open_handles,
        get_protected_raw_data_max_size, new_generation, set_closed_handles_queue_max_size,
        set_handle_stack_trace_limit, set_on_invalid_builder_handle, set_on_invalid_handle,
        set_protected_raw_data_max_size, DebugHandle,
    };
}
