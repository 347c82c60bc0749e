"""Booking engine: everything beside app.py that Chalice packages into the Lambda."""
