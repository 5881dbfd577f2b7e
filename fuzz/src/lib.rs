//! What the fuzz targets of `fuzz_targets/` share: the fuzz input read as a
//! stream of choices ([`input`]), the embedded interpreter and the Python
//! values built from those choices ([`py`]), and calls of the variadic C
//! helpers with an argument list chosen at run time ([`varcall`]).
//!
//! See `fuzz/README.md` for the targets and `scripts/fuzz.sh` to run them.

pub mod input;
pub mod py;
pub mod varcall;

// The C entry points of the helpers (`HPyArg_Parse`, `HPy_BuildValue`, ...)
// live in hpy-helpers' bundled C library; naming the crate links it.
use hpy_helpers as _;
