"""B8, start-up and footprint (taskgym.benchmarks.startup): ``import taskgym`` against
``import gymnasium`` and an empty interpreter, and the installed size with each extra.

    python bench/bench_import.py [--quick]

The same as ``taskgym bench --only B8``.
"""

import sys

from taskgym.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "--only", "B8", *sys.argv[1:]]))
