//! Where HPy differs from the C API on purpose, as data: `differences.tsv`
//! (read once), and the question the properties ask of it: may this
//! outcome of CPython and this outcome of HPy differ?
//!
//! An outcome is written as text: `ok` (plus what was produced), or
//! `Type: message` for an exception. A row allows a pair of outcomes when
//! its `cpython` pattern matches CPython's and its `hpy` pattern matches
//! HPy's, with the same text for each capture name: `{x}` matches any text
//! (`{_}` too, without binding), everything else matches itself.

use std::collections::HashMap;
use std::sync::OnceLock;

/// One row of `differences.tsv`.
#[derive(Debug)]
pub struct Row {
    /// What differs: a unit, or a case (the first column).
    pub case: String,
    /// Which property the row is for (`argparse`, `buildvalue`, ...).
    pub property: String,
    pub cpython: String,
    pub hpy: String,
    pub why: String,
}

/// The rows of `differences.tsv`, read once.
pub fn rows() -> &'static [Row] {
    static ROWS: OnceLock<Vec<Row>> = OnceLock::new();
    ROWS.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/differences.tsv");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        parse(&text)
    })
}

/// Reads the table: tab-separated, `#` comments, a header row first.
pub fn parse(text: &str) -> Vec<Row> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() == 5, "differences.tsv: 5 columns expected: {l:?}");
            assert!(
                !f[1].is_empty() && !f[4].is_empty(),
                "differences.tsv: a row needs its property and its reason: {l:?}"
            );
            Row {
                case: f[0].into(),
                property: f[1].into(),
                cpython: f[2].into(),
                hpy: f[3].into(),
                why: f[4].into(),
            }
        })
        .collect()
}

/// The row of `property` that allows CPython's outcome `cpython` and HPy's
/// outcome `hpy` to differ, if any.
pub fn allowed(property: &str, cpython: &str, hpy: &str) -> Option<&'static Row> {
    rows().iter().find(|r| {
        r.property == property && {
            let mut caps = HashMap::new();
            matches(&r.cpython, cpython, &mut caps) && matches(&r.hpy, hpy, &mut caps)
        }
    })
}

/// Whether `text` matches `pattern`, with the captures already bound in
/// `caps` (new ones are added on success).
pub fn matches<'t>(pattern: &str, text: &'t str, caps: &mut HashMap<String, &'t str>) -> bool {
    let Some(open) = pattern.find('{') else {
        return pattern == text;
    };
    let (lit, rest) = pattern.split_at(open);
    let Some(text) = text.strip_prefix(lit) else {
        return false;
    };
    let close = rest.find('}').expect("differences.tsv: unclosed '{'");
    let (name, after) = (&rest[1..close], &rest[close + 1..]);
    if let Some(bound) = caps.get(name).copied().filter(|_| name != "_") {
        return text
            .strip_prefix(bound)
            .is_some_and(|t| matches(after, t, caps));
    }
    // every split of the remaining text, shortest capture first
    for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
        let mut tried = caps.clone();
        if name != "_" {
            tried.insert(name.to_owned(), &text[..end]);
        }
        if matches(after, &text[end..], &mut tried) {
            *caps = tried;
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let m = |p: &str, t: &str| matches(p, t, &mut HashMap::new());
        assert!(m("TypeError: {m}", "TypeError: x y"));
        assert!(!m("TypeError: {m}", "ValueError: x"));
        assert!(m("a{x}b{x}", "a12b12"));
        assert!(!m("a{x}b{x}", "a12b13"));
        assert!(m("{_}-{_}", "1-2"));
        let mut caps = HashMap::new();
        assert!(matches("E: {m}", "E: hello", &mut caps));
        assert!(matches("E: function {m}", "E: function hello", &mut caps));
        assert!(!matches("E: function {m}", "E: function bye", &mut caps));
    }

    #[test]
    fn the_table_reads() {
        let rows = rows();
        assert!(rows.len() > 10);
        for r in rows {
            // every pattern is well formed (an unclosed `{` panics)
            let mut caps = HashMap::new();
            matches(&r.cpython, &r.cpython, &mut caps);
            matches(&r.hpy, &r.hpy, &mut caps);
            assert!(
                ["argparse", "buildvalue", "builders"].contains(&r.property.as_str()),
                "{}: unknown property {}",
                r.case,
                r.property
            );
        }
    }
}
