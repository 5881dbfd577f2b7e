import os


class HPyDevel:
    """Points upstream's test support at the hpy-rs headers."""

    def __init__(self, base_dir=None):
        self.include_dir = os.environ['HPY_RS_INCLUDE']
        self.base_dir = base_dir or os.path.dirname(self.include_dir)

    def get_extra_include_dirs(self):
        return [self.include_dir]

    def get_include_dir_forbid_python_h(self):
        return os.path.join(self.include_dir, 'hpy', 'forbid_python_h')
