"""Write the OpenAPI document: ``python -m devtools.openapi_dump docs/openapi.json`` (``make docs``).

``--check`` writes nothing and exits 1 when the file differs from what the code
describes (for CI). The document has no ``servers``: the API serves its own
copy, with its URL, at ``GET /openapi.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_PATH = Path("docs/openapi.json")


def render() -> str:
    """The document as committed: sorted keys, two-space indent, trailing newline."""
    import app  # noqa: F401  (importing the app declares every route)
    from chalicelib.api.http.openapi import build_openapi
    from chalicelib.api.http.route import OPERATIONS

    return json.dumps(build_openapi(OPERATIONS), sort_keys=True, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale; write nothing")
    args = parser.parse_args(argv)
    text = render()
    path: Path = args.path
    if args.check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is stale: run `python -m devtools.openapi_dump {path}`", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
