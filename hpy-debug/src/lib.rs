//! The HPy debug and trace contexts: wrappers around any inner context (upcoming issue).
pub use hpy_sys as sys;
