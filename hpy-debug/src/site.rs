//! Where a check runs: the API function an extension called (and the
//! argument a check is about), so that every report names them, and the one
//! table of the arguments that may be NULL.
//!
//! A [`Site`] is a constant made at compile time (`site!(ctx_Repr, obj)`)
//! and passed by reference down the checking path: on the fast path it is
//! never touched (the NULL flags fold into the code), so naming the function
//! costs nothing until something is reported.

use hpy_sys::{CTX_FUNCTION_API_NAMES, CTX_FUNCTION_NAMES};

/// An API function, and one of its arguments where a check is about one.
#[derive(Debug)]
pub(crate) struct Site {
    /// The C API name (`HPy_Repr`, from the context member `ctx_Repr`), or
    /// the name of an entry point of the debug mode itself.
    pub(crate) api: &'static str,
    /// The argument checked ("" for the call as a whole).
    pub(crate) arg: &'static str,
    /// A handle argument that may be `HPy_NULL` (see [`NULL_HANDLE_OK`]).
    pub(crate) null_handle_ok: bool,
    /// A `const char *` argument that must not be NULL (see
    /// [`STRING_REQUIRED`]).
    pub(crate) string_required: bool,
}

/// Handle arguments that may be `HPy_NULL` (by upstream's documentation or
/// behaviour: an optional argument, a "store nothing", or a documented
/// error); every other handle argument of a context function is required,
/// and `HPy_NULL` there is reported naming the function and the argument.
/// Members and arguments by their names in `hpy/context.h`.
pub(crate) const NULL_HANDLE_OK: &[(&str, &str)] = &[
    ("ctx_Dup", "h"),
    // the object of a type parameter: HPy_NULL is a TypeError naming the
    // type and the parameter (tests/python/test_bad_specs.py)
    ("ctx_Type_FromSpec", "params"),
    ("ctx_Close", "h"),
    ("ctx_CallTupleDict", "args"),
    ("ctx_CallTupleDict", "kw"),
    ("ctx_Call", "kwnames"),
    ("ctx_CallMethod", "kwnames"),
    ("ctx_Type_GenericNew", "kw"),
    ("ctx_Err_SetObject", "h_value"),
    ("ctx_Err_SetFromErrnoWithFilenameObjects", "filename1"),
    ("ctx_Err_SetFromErrnoWithFilenameObjects", "filename2"),
    ("ctx_Err_NewException", "base"),
    ("ctx_Err_NewException", "dict"),
    ("ctx_Err_NewExceptionWithDoc", "base"),
    ("ctx_Err_NewExceptionWithDoc", "dict"),
    ("ctx_Err_WarnEx", "category"),
    ("ctx_Err_WriteUnraisable", "obj"),
    // deletes the attribute, as in CPython
    ("ctx_SetAttr", "value"),
    ("ctx_SetAttr_s", "value"),
    ("ctx_Is", "obj"),
    ("ctx_Is", "other"),
    ("ctx_AsPyObject", "h"),
    ("ctx_ListBuilder_Set", "h_item"),
    ("ctx_TupleBuilder_Set", "h_item"),
    ("ctx_Tracker_Add", "h"),
    ("ctx_Field_Store", "h"),
    ("ctx_Global_Store", "h"),
    ("ctx_Dump", "h"),
    ("ctx_ContextVar_New", "default_value"),
    ("ctx_ContextVar_Get", "default_value"),
    // documented: HPy_NULL raises SystemError
    ("ctx_Unicode_FromEncodedObject", "obj"),
    ("ctx_Dict_Keys", "h"),
    ("ctx_Dict_Copy", "h"),
    ("ctx_Capsule_IsValid", "capsule"),
    ("ctx_Slice_New", "start"),
    ("ctx_Slice_New", "stop"),
    ("ctx_Slice_New", "step"),
    // checked (fatally, with a message of their own) by `special.rs`
    ("ctx_TypeCheck", "obj"),
    ("ctx_TypeCheck", "type_"),
    ("ctx_Type_IsSubtype", "sub"),
    ("ctx_Type_IsSubtype", "type_"),
    ("ctx_Type_GetName", "type_"),
    ("ctx_Unicode_Substring", "str_"),
];

/// `const char *` arguments that must not be NULL: names, keys, sources,
/// NUL-terminated strings the function reads (a NULL there crashes the
/// interpreter). Other pointer arguments may be NULL or are not checked.
pub(crate) const STRING_REQUIRED: &[(&str, &str)] = &[
    ("ctx_GetAttr_s", "utf8_name"),
    ("ctx_HasAttr_s", "utf8_name"),
    ("ctx_SetAttr_s", "utf8_name"),
    ("ctx_GetItem_s", "utf8_key"),
    ("ctx_SetItem_s", "utf8_key"),
    ("ctx_DelItem_s", "utf8_key"),
    ("ctx_Import_ImportModule", "utf8_name"),
    ("ctx_Err_SetString", "utf8_message"),
    ("ctx_Err_NewException", "utf8_name"),
    ("ctx_Err_NewExceptionWithDoc", "utf8_name"),
    ("ctx_Unicode_FromString", "utf8"),
    ("ctx_Bytes_FromString", "bytes"),
    ("ctx_Unicode_DecodeFSDefault", "v"),
    ("ctx_Compile_s", "utf8_source"),
    ("ctx_Compile_s", "utf8_filename"),
    ("ctx_ContextVar_New", "name"),
];

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn listed(table: &[(&str, &str)], member: &str, arg: &str) -> bool {
    let mut i = 0;
    while i < table.len() {
        if str_eq(table[i].0, member) && str_eq(table[i].1, arg) {
            return true;
        }
        i += 1;
    }
    false
}

/// The C API name of context member `member` (a compile error if it is
/// not one).
pub(crate) const fn api_name(member: &str) -> &'static str {
    let mut i = 0;
    while i < CTX_FUNCTION_NAMES.len() {
        if str_eq(CTX_FUNCTION_NAMES[i], member) {
            return CTX_FUNCTION_API_NAMES[i];
        }
        i += 1;
    }
    panic!("not a function member of the context")
}

impl Site {
    /// A call of context member `member` as a whole.
    pub(crate) const fn call(member: &str) -> Site {
        Site::arg(member, "")
    }

    /// Argument `arg` of context member `member`.
    pub(crate) const fn arg(member: &str, arg: &'static str) -> Site {
        Site {
            api: api_name(member),
            arg,
            null_handle_ok: listed(NULL_HANDLE_OK, member, arg),
            string_required: listed(STRING_REQUIRED, member, arg),
        }
    }

    /// The same site, where `HPy_NULL` is fine (handles the function got
    /// earlier through another argument, e.g. a tracker's).
    pub(crate) const fn null_handle_ok(self) -> Site {
        Site {
            null_handle_ok: true,
            ..self
        }
    }

    /// An entry point of the debug mode itself (not an API function; NULL
    /// handles pass).
    pub(crate) const fn entry(api: &'static str) -> Site {
        Site {
            api,
            arg: "",
            null_handle_ok: true,
            string_required: false,
        }
    }

    /// `HPy_Repr`, or `HPy_Add (argument 'h1')`.
    pub(crate) fn describe(&self) -> String {
        if self.arg.is_empty() {
            self.api.to_string()
        } else {
            format!("{} (argument '{}')", self.api, self.arg)
        }
    }
}

/// `site!(ctx_Repr)`: the call of a member; `site!(ctx_Add, h1)`: one of its
/// arguments. A `&'static Site` made at compile time.
macro_rules! site {
    ($member:ident) => {
        const { &$crate::site::Site::call(stringify!($member)) }
    };
    ($member:ident, $arg:ident) => {
        const { &$crate::site::Site::arg(stringify!($member), stringify!($arg)) }
    };
}
pub(crate) use site;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (member, argument) of the context, from its declaration.
    fn params() -> Vec<(&'static str, &'static str)> {
        macro_rules! collect {
            ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {
                vec![$( $( (stringify!($name), stringify!($p)), )* )*]
            };
        }
        hpy_sys::for_each_ctx_function!(collect)
    }

    #[test]
    fn tables_name_real_arguments() {
        let all = params();
        for table in [NULL_HANDLE_OK, STRING_REQUIRED] {
            for entry in table {
                assert!(
                    all.contains(entry),
                    "{entry:?} is not an argument of the context"
                );
            }
        }
    }

    #[test]
    fn names_and_flags() {
        let s = site!(ctx_Repr, obj);
        assert_eq!(s.describe(), "HPy_Repr (argument 'obj')");
        assert!(!s.null_handle_ok && !s.string_required);
        assert!(site!(ctx_Close, h).null_handle_ok);
        assert!(site!(ctx_GetAttr_s, utf8_name).string_required);
        assert_eq!(site!(ctx_Tracker_New).describe(), "HPyTracker_New");
        assert_eq!(site!(ctx_AsStruct_Object).api, "_HPy_AsStruct_Object");
    }
}
