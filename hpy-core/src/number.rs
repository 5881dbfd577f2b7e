//! The number protocol on `Handle`: `a.add(&b)` is `a + b`, and so on.

use crate::convert::IntoHPy;
use crate::err::HPyResult;
use crate::handle::Handle;
use crate::raw;

macro_rules! binary {
    ($($(#[$doc:meta])* $name:ident => $member:ident, $c:literal;)*) => {
        impl<'c> Handle<'c> {$(
            #[doc = concat!("`", $c, "` (`", stringify!($member), "`).")]
            $(#[$doc])*
            pub fn $name(&self, other: impl IntoHPy<'c>) -> HPyResult<Handle<'c>> {
                let ctx = self.context();
                let o = other.into_hpy(ctx)?;
                // SAFETY: a live context and open handles; a new handle or NULL.
                Handle::from_result(ctx, unsafe { raw::$member(ctx.as_ptr(), self.raw(), o.raw()) })
            }
        )*}
    };
}

macro_rules! unary {
    ($($name:ident => $member:ident, $c:literal;)*) => {
        impl<'c> Handle<'c> {$(
            #[doc = concat!("`", $c, "` (`", stringify!($member), "`).")]
            pub fn $name(&self) -> HPyResult<Handle<'c>> {
                let ctx = self.context();
                // SAFETY: a live context and an open handle.
                Handle::from_result(ctx, unsafe { raw::$member(ctx.as_ptr(), self.raw()) })
            }
        )*}
    };
}

binary! {
    add => ctx_Add, "self + other";
    sub => ctx_Subtract, "self - other";
    mul => ctx_Multiply, "self * other";
    matmul => ctx_MatrixMultiply, "self @ other";
    floor_div => ctx_FloorDivide, "self // other";
    true_div => ctx_TrueDivide, "self / other";
    rem => ctx_Remainder, "self % other";
    divmod => ctx_Divmod, "divmod(self, other)";
    lshift => ctx_Lshift, "self << other";
    rshift => ctx_Rshift, "self >> other";
    bitand => ctx_And, "self & other";
    bitxor => ctx_Xor, "self ^ other";
    bitor => ctx_Or, "self | other";
    inplace_add => ctx_InPlaceAdd, "self += other";
    inplace_sub => ctx_InPlaceSubtract, "self -= other";
    inplace_mul => ctx_InPlaceMultiply, "self *= other";
    inplace_matmul => ctx_InPlaceMatrixMultiply, "self @= other";
    inplace_floor_div => ctx_InPlaceFloorDivide, "self //= other";
    inplace_true_div => ctx_InPlaceTrueDivide, "self /= other";
    inplace_rem => ctx_InPlaceRemainder, "self %= other";
    inplace_lshift => ctx_InPlaceLshift, "self <<= other";
    inplace_rshift => ctx_InPlaceRshift, "self >>= other";
    inplace_bitand => ctx_InPlaceAnd, "self &= other";
    inplace_bitxor => ctx_InPlaceXor, "self ^= other";
    inplace_bitor => ctx_InPlaceOr, "self |= other";
}

unary! {
    neg => ctx_Negative, "-self";
    pos => ctx_Positive, "+self";
    abs => ctx_Absolute, "abs(self)";
    invert => ctx_Invert, "~self";
    index => ctx_Index, "operator.index(self)";
    to_int => ctx_Long, "int(self)";
    to_float => ctx_Float, "float(self)";
}

impl<'c> Handle<'c> {
    /// `pow(self, exp, modulo)` (`modulo` `None` for plain `**`).
    #[doc(alias = "HPy_Power")]
    pub fn pow(&self, exp: impl IntoHPy<'c>, modulo: impl IntoHPy<'c>) -> HPyResult<Handle<'c>> {
        let ctx = self.context();
        let e = exp.into_hpy(ctx)?;
        let m = modulo.into_hpy(ctx)?;
        // SAFETY: a live context and open handles.
        Handle::from_result(ctx, unsafe {
            raw::ctx_Power(ctx.as_ptr(), self.raw(), e.raw(), m.raw())
        })
    }

    /// True if the object supports the number protocol.
    #[doc(alias = "HPyNumber_Check")]
    pub fn is_number(&self) -> bool {
        let ctx = self.context();
        // SAFETY: a live context and an open handle.
        unsafe { raw::ctx_Number_Check(ctx.as_ptr(), self.raw()) != 0 }
    }
}
