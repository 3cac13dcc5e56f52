"""`python -m conformance` is the same as the `starfish-conformance` command."""

import sys

from conformance.cli import main

sys.exit(main())
