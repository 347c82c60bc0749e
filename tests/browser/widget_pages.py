"""An integrator's page on another origin that embeds Timekit's widget from the API's own
static files: the script tag, a project id and the company's public key (README, "Embedding
the booking widget")."""

from __future__ import annotations

import json
from typing import Any


def embed_page(api_url: str, config: dict[str, Any]) -> str:
    settings = {"api_base_url": f"{api_url}/", **config}
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Riverside Clinic: book</title>
<link rel="stylesheet" href="{api_url}/static/build/booking.min.css">
</head><body style="background:#f3f4f6">
<div id="bookingjs"></div>
<script src="{api_url}/static/build/booking.min.js"></script>
<script src="{api_url}/static/widget-messages.js"></script>
<script>
  window.widget = new TimekitBooking();
  window.widget.init(BookingMessages.withMessages({json.dumps(settings)}));
</script>
</body></html>"""
