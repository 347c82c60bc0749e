"""Step Functions (ASL) mirrors of the booking graphs: see :mod:`chalicelib.asl.generate`."""
