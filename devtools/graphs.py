"""``make docs``: render every booking graph to ``docs/graphs/<name>.svg`` with Graphviz.

The DOT comes from the same definitions the engine runs (``GET /v2/graphs/{name}?format=dot``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from chalicelib.domain.graph_docs import to_dot
from chalicelib.domain.graphs import GRAPHS

OUT = Path(__file__).resolve().parent.parent / "docs" / "graphs"


def main() -> int:
    dot = shutil.which("dot")
    if dot is None:
        print("Graphviz is needed: sudo apt-get install -y graphviz", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    for name, graph in GRAPHS.items():
        source = to_dot(graph)
        svg = subprocess.run([dot, "-Tsvg"], input=source, capture_output=True, text=True, check=True).stdout
        (OUT / f"{name}.svg").write_text(svg)
        print(f"docs/graphs/{name}.svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
