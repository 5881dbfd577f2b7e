//! Attribute macros (`#[hpy_def]` and friends) for Rust HPy extensions (upcoming issue).
