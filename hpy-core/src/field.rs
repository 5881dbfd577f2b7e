//! `Field` (`HPyField`): a reference from an object of your type to another
//! object, known to the garbage collector.

use crate::handle::Handle;
use crate::raw;
use hpy_sys::HPyField;

/// A reference held by an object of a `#[hpy_def]` type. Put it in the
/// struct as a field of type `Field`: the generated `tp_traverse` visits it
/// (so reference cycles through it are collected) and the runtime clears it
/// when the object dies. Storing needs the owning object's handle: take a
/// parameter `slf: &Handle<'c>` in the method that stores.
///
/// ```ignore
/// #[hpy_def]
/// struct Node { next: Field }
/// #[hpy_def]
/// impl Node {
///     fn set_next(&mut self, slf: &Handle<'_>, next: &Handle<'_>) {
///         self.next.store(slf, Some(next));
///     }
///     fn next<'c>(&self, slf: &Handle<'c>) -> Option<Handle<'c>> {
///         self.next.load(slf)
///     }
/// }
/// ```
#[repr(transparent)]
pub struct Field(HPyField);

impl Field {
    /// An empty field.
    pub const fn new() -> Field {
        Field(HPyField { _i: 0 })
    }

    /// True if it refers to nothing.
    pub fn is_empty(&self) -> bool {
        self.0._i == 0
    }

    /// A new handle to the object referred to, or `None`. `owner` is the
    /// object this field belongs to.
    #[doc(alias = "HPyField_Load")]
    pub fn load<'c>(&self, owner: &Handle<'c>) -> Option<Handle<'c>> {
        if self.is_empty() {
            return None;
        }
        let ctx = owner.context();
        // SAFETY: a live context, the field's owner and a non-empty field.
        let h = unsafe { raw::ctx_Field_Load(ctx.as_ptr(), owner.raw(), self.0) };
        Handle::from_result(ctx, h).ok()
    }

    /// Refers to `value` (or to nothing), dropping the previous reference.
    /// `owner` is the object this field belongs to.
    #[doc(alias = "HPyField_Store")]
    pub fn store(&mut self, owner: &Handle<'_>, value: Option<&Handle<'_>>) {
        let ctx = owner.context();
        let v = value.map_or(hpy_sys::HPy { _i: 0 }, |h| h.raw());
        // SAFETY: a live context, the owner, a pointer to this field inside
        // the owner's payload (the caller holds `&mut self` to it) and an
        // open handle or HPy_NULL.
        unsafe { raw::ctx_Field_Store(ctx.as_ptr(), owner.raw(), &mut self.0, v) }
    }

    /// The raw field, for the generated `tp_traverse`.
    #[doc(hidden)]
    pub fn as_mut_ptr(&mut self) -> *mut HPyField {
        &mut self.0
    }
}

impl Default for Field {
    fn default() -> Self {
        Field::new()
    }
}

impl core::fmt::Debug for Field {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.is_empty() {
            f.write_str("Field(empty)")
        } else {
            f.write_str("Field(..)")
        }
    }
}
