# Version of the hpy distribution (hpy-rs, a drop-in for HPy 0.9.0).
__version__ = "0.9.0"
__git_revision__ = "__UNKNOWN__"
