"""`python -m stripesim serve ...`."""

import sys

from .cli import main

sys.exit(main())
