"""``python -m zhijiao``: the same command line as ``zhijiao``."""

import sys

from zhijiao.cli import main

sys.exit(main())
