"""The on-disk store (L4): job directory layout, status, locks, maintenance operations and run records."""
