"""``python -m crisismap.cli``."""

import sys

from crisismap.cli.main import main

sys.exit(main())
