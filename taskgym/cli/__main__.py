"""python -m taskgym.cli: the same as the taskgym command."""

import sys

from taskgym.cli import main

sys.exit(main())
