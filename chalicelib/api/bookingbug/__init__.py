"""The BookingBug v1 face: catalogue, events and basket."""
