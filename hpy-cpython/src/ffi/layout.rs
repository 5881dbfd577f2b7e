//! The layout checks: `build.rs` compiled a C probe for every row of
//! `layout.txt` against the target interpreter's headers and wrote what it
//! printed as `const` asserts (size and field offsets of each struct, value
//! of each constant). When the probe cannot run (cross-compiling), the file
//! is empty and `build.rs` says so.

// The generated asserts cast every value to u64, some already are.
#![allow(clippy::unnecessary_cast)]

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use core::mem::{offset_of, size_of};

include!(concat!(env!("OUT_DIR"), "/layout.rs"));
