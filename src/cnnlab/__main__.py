"""``python -m cnnlab``: the command-line tool."""

import sys

from cnnlab.cli import main

sys.exit(main())
