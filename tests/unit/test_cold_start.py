"""What importing the app leaves for later (docs/architecture.md, "Cold start").

A Lambda cold start is mostly import time: these modules load with the first request,
schedule or message that needs them, never with ``import app``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LATER = (
    "pydantic",  # routes name their models by string
    "chalicelib.settings_model",
    "jwt",  # customer links, on first use
    "aws_lambda_powertools",
    "boto3",  # the app uses botocore through PynamoDB only
    "defusedxml",  # the legacy face's XML bodies
    "dateutil.rrule",
    "chalicelib.api.bookingbug.schemas",
    "chalicelib.api.timekit.schemas",
    "chalicelib.domain.graphs",  # the engine, with the first booking
    "chalicelib.services.selling.bookings",
    "chalicelib.services.selling.capacity",
    "chalicelib.services.selling.sweeper",
    "chalicelib.services.catalogue.events",
)


def test_importing_the_app_loads_none_of_what_a_request_loads_later() -> None:
    code = f"import sys, app; print(' '.join(m for m in {LATER!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == []
