"""Label modules, one per view; each defines ``LABELS = {key: (korean, english)}``."""
