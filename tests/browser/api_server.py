"""One API process for the browser tests: the app over real HTTP on 127.0.0.1.

Run as ``python -m tests.browser.api_server``; prints its port on the first line of stdout,
then serves until killed. It answers one request at a time, as one Lambda instance does;
two of these processes on one table are two instances (the race test uses that). The table
comes from the environment (``TABLE_NAME``, ``DYNAMODB_ENDPOINT``), as for the app.
"""

from __future__ import annotations

import logging

from werkzeug.serving import make_server

from app import app
from tests.wsgi_adapter import ChaliceWSGI


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, ChaliceWSGI(app), threaded=False)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
