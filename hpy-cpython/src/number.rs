//! The number protocol: every unary, binary, ternary and in-place operator.

use crate::ffi;
use crate::handle::{as_obj, from_owned};
use hpy_sys::{HPy, HPyContext};

macro_rules! unary {
    ($($name:ident => $f:path),* $(,)?) => {$(
        pub unsafe extern "C" fn $name(_ctx: *mut HPyContext, h1: HPy) -> HPy {
            // SAFETY: called by C with the GIL held and an open handle.
            from_owned(unsafe { $f(as_obj(h1)) })
        }
    )*};
}

macro_rules! binary {
    ($($name:ident => $f:path),* $(,)?) => {$(
        pub unsafe extern "C" fn $name(_ctx: *mut HPyContext, h1: HPy, h2: HPy) -> HPy {
            // SAFETY: called by C with the GIL held and open handles.
            from_owned(unsafe { $f(as_obj(h1), as_obj(h2)) })
        }
    )*};
}

macro_rules! ternary {
    ($($name:ident => $f:path),* $(,)?) => {$(
        pub unsafe extern "C" fn $name(_ctx: *mut HPyContext, h1: HPy, h2: HPy, h3: HPy) -> HPy {
            // SAFETY: called by C with the GIL held and open handles.
            from_owned(unsafe { $f(as_obj(h1), as_obj(h2), as_obj(h3)) })
        }
    )*};
}

unary! {
    ctx_Negative => ffi::PyNumber_Negative,
    ctx_Positive => ffi::PyNumber_Positive,
    ctx_Absolute => ffi::PyNumber_Absolute,
    ctx_Invert => ffi::PyNumber_Invert,
    ctx_Index => ffi::PyNumber_Index,
    ctx_Long => ffi::PyNumber_Long,
    ctx_Float => ffi::PyNumber_Float,
}

binary! {
    ctx_Add => ffi::PyNumber_Add,
    ctx_Subtract => ffi::PyNumber_Subtract,
    ctx_Multiply => ffi::PyNumber_Multiply,
    ctx_MatrixMultiply => ffi::PyNumber_MatrixMultiply,
    ctx_FloorDivide => ffi::PyNumber_FloorDivide,
    ctx_TrueDivide => ffi::PyNumber_TrueDivide,
    ctx_Remainder => ffi::PyNumber_Remainder,
    ctx_Divmod => ffi::PyNumber_Divmod,
    ctx_Lshift => ffi::PyNumber_Lshift,
    ctx_Rshift => ffi::PyNumber_Rshift,
    ctx_And => ffi::PyNumber_And,
    ctx_Xor => ffi::PyNumber_Xor,
    ctx_Or => ffi::PyNumber_Or,
    ctx_InPlaceAdd => ffi::PyNumber_InPlaceAdd,
    ctx_InPlaceSubtract => ffi::PyNumber_InPlaceSubtract,
    ctx_InPlaceMultiply => ffi::PyNumber_InPlaceMultiply,
    ctx_InPlaceMatrixMultiply => ffi::PyNumber_InPlaceMatrixMultiply,
    ctx_InPlaceFloorDivide => ffi::PyNumber_InPlaceFloorDivide,
    ctx_InPlaceTrueDivide => ffi::PyNumber_InPlaceTrueDivide,
    ctx_InPlaceRemainder => ffi::PyNumber_InPlaceRemainder,
    ctx_InPlaceLshift => ffi::PyNumber_InPlaceLshift,
    ctx_InPlaceRshift => ffi::PyNumber_InPlaceRshift,
    ctx_InPlaceAnd => ffi::PyNumber_InPlaceAnd,
    ctx_InPlaceXor => ffi::PyNumber_InPlaceXor,
    ctx_InPlaceOr => ffi::PyNumber_InPlaceOr,
}

ternary! {
    ctx_Power => ffi::PyNumber_Power,
    ctx_InPlacePower => ffi::PyNumber_InPlacePower,
}
