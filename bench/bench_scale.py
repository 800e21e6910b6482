"""The scale suite (B1 step overhead, B2 batch grading, B6 model-calling
agents, B8 import and size): ``taskgym bench`` from a checkout.

    python bench/bench_scale.py [--only B1,B2] [--executors inline,process,ray] [--quick]
"""

import sys

from taskgym.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
