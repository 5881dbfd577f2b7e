"""The `simple` HPy example: metadata in pyproject.toml, the extension here.

Wheels (see pyproject.toml):

    pip wheel --config-settings hpy-abi=universal .

In place, for development (hpy-rs installed):

    python setup.py --hpy-abi=universal build_ext --inplace
    python setup.py --hpy-abi=hybrid build_ext --inplace
    python setup.py --hpy-abi=cpython build_ext --inplace   # (the default on CPython)

`hpy_ext_modules` and `--hpy-abi` come from hpy.devel, which registers
itself as a setuptools plugin when the `hpy-rs` distribution is installed.
"""
from setuptools import setup, Extension

setup(
    hpy_ext_modules=[
        Extension(
            "simple",
            sources=["simple.c"],
            extra_compile_args=["-Wall", "-Werror"],
        ),
    ],
)
