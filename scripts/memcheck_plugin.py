"""pytest plugin loaded by scripts/memcheck.sh (`-p memcheck_plugin`).

pytest-xdist kills a worker that has not exited 10 s after the session ends.
Under valgrind a worker's exit takes longer (the leak check scans the whole
heap), and a killed worker writes no leak report: the leak check of the
processes that ran the tests would be lost. Give them an hour instead.
"""
try:
    from xdist.workermanage import NodeManager
except ImportError:  # no xdist: nothing to do
    NodeManager = None

if NodeManager is not None:
    NodeManager.EXIT_TIMEOUT = 3600
