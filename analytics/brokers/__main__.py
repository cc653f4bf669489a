"""``python -m analytics.brokers``: the broker detection job (see :mod:`analytics.brokers.detect`)."""
from analytics.brokers.detect import main

raise SystemExit(main())
