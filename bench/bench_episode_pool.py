"""B6, model-calling agents at scale (taskgym.benchmarks.episode_pool): episodes per
second through the episode pool and each executor, against a hand-written asyncio loop.

    python bench/bench_episode_pool.py [--quick] [--executors inline,process,ray]

The same as ``taskgym bench --only B6``.
"""

import sys

from taskgym.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "--only", "B6", *sys.argv[1:]]))
