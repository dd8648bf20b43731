"""Building blocks of the sandbox data generator (``sandbox.generator`` is the entry point)."""
