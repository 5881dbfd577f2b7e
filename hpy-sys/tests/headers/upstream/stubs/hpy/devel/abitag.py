HPY_ABI_VERSION = 0
HPY_ABI_VERSION_MINOR = 0
HPY_ABI_TAG = 'hpy0'


def get_hpy_ext_suffix(hpy_abi, ext_suffix=None):
    return '.hpy0.so'
