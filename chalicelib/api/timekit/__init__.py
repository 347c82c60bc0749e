"""The Timekit-style v2 face: bookings, holds, graphs and webhooks."""
