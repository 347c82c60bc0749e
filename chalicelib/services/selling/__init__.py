"""Selling seats: holds, baskets, bookings and their lifecycle, capacity, slots, idempotency, the sweeper."""
