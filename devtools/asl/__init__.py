"""Step Functions (ASL) mirrors of the booking graphs: see :mod:`devtools.asl.generate`."""
