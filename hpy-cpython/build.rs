//! The version cfgs of the interpreter pyo3-ffi is built for (`Py_3_9`,
//! `Py_3_10`, ...: each set when that version or a later one is the
//! target), for the few places where CPython's API differs between versions.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
