//! The `HPY` environment variable's parser (`mode_from_env`) and the
//! `HPY_LOG` line (`load_log_line`), hpy-universal/src/loader.rs.
//!
//! Input: a flags byte (`HPY` unset; the mode for the log line), the module
//! name up to a NUL, then the variable's value (both decoded as UTF-8,
//! invalid bytes replaced, as the loader decodes them).
//!
//! Checks: a mode is one of the three; a refusal says "invalid HPy mode:"
//! and quotes at most 50 characters; an unset variable means universal; a
//! value without `:` or `,` is accepted exactly when it is a prefix
//! (ignoring ASCII case) of a mode name; the log line ends in a newline
//! and quotes at most 200 characters of the name.

#![no_main]

use hpy_universal::loader::{load_log_line, mode_from_env, MODE_DEBUG, MODE_TRACE, MODE_UNIVERSAL};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (flags, rest) = data.split_first().unwrap_or((&0, &[]));
    let (name, value) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let name = String::from_utf8_lossy(name);
    let value = (flags & 1 == 0).then(|| String::from_utf8_lossy(value));

    let mode = mode_from_env(&name, value.as_deref());
    match (&mode, value.as_deref()) {
        (Ok(m), _) => assert!([MODE_UNIVERSAL, MODE_DEBUG, MODE_TRACE].contains(m)),
        (Err(msg), Some(v)) => {
            let quoted = msg
                .strip_prefix("invalid HPy mode: ")
                .unwrap_or_else(|| panic!("unexpected message {msg:?}"));
            assert!(quoted.chars().count() <= 50 && v.starts_with(quoted));
        }
        (Err(msg), None) => panic!("an unset HPY refused: {msg:?}"),
    }
    if value.is_none() {
        assert_eq!(mode, Ok(MODE_UNIVERSAL));
    }
    if let Some(v) = value.as_deref().filter(|v| !v.contains([':', ','])) {
        let lower = v.to_ascii_lowercase();
        let expected = [
            ("debug", MODE_DEBUG),
            ("trace", MODE_TRACE),
            ("universal", MODE_UNIVERSAL),
        ]
        .into_iter()
        .find(|(n, _)| n.starts_with(lower.as_str()))
        .map(|(_, m)| m);
        assert_eq!(mode.ok(), expected, "mode of {v:?}");
    }

    let line = load_log_line(&name, i32::from(flags >> 1) - 1);
    let line = line.to_str().expect("the log line is UTF-8");
    if !name.contains('\0') {
        assert!(line.starts_with("Loading '") && line.ends_with('\n'));
        let quoted = &line["Loading '".len()..line.rfind("' in HPy").unwrap()];
        assert!(quoted.chars().count() <= 200 && name.starts_with(quoted));
    }
});
