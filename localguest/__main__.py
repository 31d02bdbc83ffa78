"""``python -m localguest ...`` (see ``python -m localguest --help``)."""

import sys

from localguest.cli import main

sys.exit(main())
