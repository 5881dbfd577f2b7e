# Minimal stand-in for the `hpy` Python package, just enough for upstream's
# test/conftest.py and test/support.py to import. Only used by
# upstream_compile_plugin.py; nothing here is ever executed by a test.
