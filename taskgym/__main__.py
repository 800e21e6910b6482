import sys

from taskgym.cli import main

sys.exit(main())
