"""Build the `simple` HPy example like any HPy project:

    python setup.py --hpy-abi=universal build_ext --inplace
    python setup.py --hpy-abi=hybrid build_ext --inplace
    python setup.py --hpy-abi=cpython build_ext --inplace   # (the default on CPython)

`hpy_ext_modules` and `--hpy-abi` come from hpy.devel, which registers
itself as a setuptools plugin when the `hpy` distribution is installed.
"""
from setuptools import setup, Extension

setup(
    name="hpy-simple-example",
    version="0.1",
    description="A small HPy extension (examples/simple of hpy-rs)",
    hpy_ext_modules=[
        Extension(
            "simple",
            sources=["simple.c"],
            extra_compile_args=["-Wall", "-Werror"],
        ),
    ],
    setup_requires=["hpy"],
)
