"""``python3 -m audioproc``: the command line (audioproc.cli)."""

import sys

from audioproc.cli import main

sys.exit(main())
