"""`python -m train.cli ...` is `ganzoo ...`."""

import sys

from train.cli import main

sys.exit(main())
