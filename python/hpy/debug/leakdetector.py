"""Detects debug handles left open by a piece of code."""
from hpy.universal import _debug


class HPyDebugError(Exception):
    """Base class of the errors the HPy debug mode reports."""


class HPyLeakError(HPyDebugError):
    """Raised when handles opened in a LeakDetector's generation stay open."""

    def __init__(self, leaks):
        super().__init__()
        self.leaks = leaks

    def __str__(self):
        count = len(self.leaks)
        plural = '' if count == 1 else 's'
        out = ['%d unclosed handle%s:' % (count, plural)]
        # A handle's repr spans several lines when it carries its allocation
        # stack trace: indent them all under the list.
        out.extend('    ' + repr(h).replace('\n', '\n    ') for h in self.leaks)
        return '\n'.join(out)


class LeakDetector:
    """Starts a new handle generation; stop() complains about its open handles.

    Usable as a context manager.
    """

    def __init__(self):
        self.generation = None

    def start(self):
        if self.generation is not None:
            raise ValueError('LeakDetector already started')
        self.generation = _debug.new_generation()

    def stop(self):
        if self.generation is None:
            raise ValueError('LeakDetector not started yet')
        open_handles = _debug.get_open_handles(self.generation)
        if open_handles:
            raise HPyLeakError(open_handles)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop()
