"""`python -m pirsonal_async`: the `pirsonal` command line."""

import sys

from pirsonal_async.cli import main

sys.exit(main())
