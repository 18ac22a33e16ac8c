"""``python -m cnnlab.cli``: the command-line tool, as ``python -m cnnlab``."""

import sys

from cnnlab.cli import main

sys.exit(main())
