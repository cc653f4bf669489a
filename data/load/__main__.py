"""``python -m data.load``: the validated import (see :mod:`data.load.importer`)."""
from data.load.importer import main

raise SystemExit(main())
