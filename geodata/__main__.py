"""``python -m geodata``: the command line (see :mod:`geodata.cli`)."""

import sys

from geodata.cli import main

sys.exit(main())
