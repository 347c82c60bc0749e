"""``make bench``: small local benchmarks; each writes ``.data/bench/<name>.json``.

    python -m devtools.bench               # all
    python -m devtools.bench startup       # one (or several)
    python -m devtools.bench --runs 11 startup

To add one, decorate a function that takes the run count and returns a
:class:`Result` (its ``data`` is written as JSON, its ``summary`` printed)::

    @benchmark("booking_throughput")
    def booking_throughput(runs: int) -> Result:
        ...
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools.ddb_local import ROOT

OUT_DIR = ROOT / ".data" / "bench"
DEFAULT_RUNS = 7


@dataclass
class Result:
    summary: str
    data: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    """False when a target is missed (reported; ``make bench`` still exits 0)."""


Benchmark = Callable[[int], Result]
BENCHMARKS: dict[str, Benchmark] = {}


def benchmark(name: str) -> Callable[[Benchmark], Benchmark]:
    def register(function: Benchmark) -> Benchmark:
        if name in BENCHMARKS:
            raise ValueError(f"benchmark {name!r} is registered twice")
        BENCHMARKS[name] = function
        return function

    return register


def time_python(code: str, env: dict[str, str] | None = None) -> float:
    """Wall time in seconds of a fresh ``python -c code`` in the repository root."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"python -c {code!r} failed ({done.returncode}):\n{done.stderr.decode()}")
    return elapsed


# --- benchmarks -------------------------------------------------------------------------------

STARTUP_APP = "import app"
STARTUP_BASELINE = "import chalice, boto3, pynamodb.models, pydantic"
STARTUP_TARGET_RATIO = 1.2


def bytecode_env(pycache: Path, *, write: bool) -> dict[str, str]:
    """The environment for a Python whose bytecode lives under ``pycache`` (PYTHONPYCACHEPREFIX),
    written there or not, whatever this shell says (PYTHONDONTWRITEBYTECODE)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _medians(runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """(app ms, baseline ms), alternating so both see the same machine noise."""
    app_ms: list[float] = []
    baseline_ms: list[float] = []
    for _ in range(runs):
        baseline_ms.append(time_python(STARTUP_BASELINE, env) * 1000)
        app_ms.append(time_python(STARTUP_APP, env) * 1000)
    return app_ms, baseline_ms


@benchmark("startup")
def startup(runs: int) -> Result:
    """Cold-start import cost of the app against the bare libraries it is built on.

    The ratio compares both with their bytecode compiled, as the deployment package ships
    it (``make package`` adds it, devtools/infra.py ``bytecode``): one unmeasured round writes
    it under ``.data/bench/pycache`` (even when PYTHONDONTWRITEBYTECODE is set here, which
    otherwise leaves the app compiling its ~70 modules from source on every run while the
    libraries' bytecode was written at install). Then, for information, both compiled from
    source on every run, the standard library too (an empty cache that is never written):
    more than a package without bytecode paid at each cold start, as Lambda's runtime has
    the standard library's bytecode. Runs alternate (baseline, app, ...).
    """
    compiled = bytecode_env(OUT_DIR / "pycache", write=True)
    time_python(STARTUP_BASELINE, compiled)
    time_python(STARTUP_APP, compiled)
    app_ms, baseline_ms = _medians(runs, bytecode_env(OUT_DIR / "pycache", write=False))
    app_median = statistics.median(app_ms)
    baseline_median = statistics.median(baseline_ms)
    ratio = app_median / baseline_median
    ok = ratio <= STARTUP_TARGET_RATIO
    with tempfile.TemporaryDirectory() as empty:
        source_app_ms, source_baseline_ms = _medians(runs, bytecode_env(Path(empty), write=False))
    source_app = statistics.median(source_app_ms)
    source_baseline = statistics.median(source_baseline_ms)
    return Result(
        summary=(
            f"import app {app_median:.0f} ms, baseline {baseline_median:.0f} ms "
            f"(median of {runs}); ratio {ratio:.2f} "
            f"{'<=' if ok else '>'} target {STARTUP_TARGET_RATIO:.2f}; "
            f"from source (no bytecode) {source_app:.0f} ms against {source_baseline:.0f} ms, "
            f"ratio {source_app / source_baseline:.2f}"
        ),
        data={
            "app_code": STARTUP_APP,
            "baseline_code": STARTUP_BASELINE,
            "app_ms": [round(v, 1) for v in app_ms],
            "baseline_ms": [round(v, 1) for v in baseline_ms],
            "app_median_ms": round(app_median, 1),
            "baseline_median_ms": round(baseline_median, 1),
            "ratio": round(ratio, 3),
            "target_ratio": STARTUP_TARGET_RATIO,
            "from_source": {
                "app_ms": [round(v, 1) for v in source_app_ms],
                "baseline_ms": [round(v, 1) for v in source_baseline_ms],
                "app_median_ms": round(source_app, 1),
                "baseline_median_ms": round(source_baseline, 1),
                "ratio": round(source_app / source_baseline, 3),
            },
        },
        ok=ok,
    )


def _elsewhere(module: str, function: str) -> Benchmark:
    """A benchmark defined in another module, imported only when it runs."""

    def run(runs: int) -> Result:
        import importlib

        found: Benchmark = getattr(importlib.import_module(module), function)
        return found(runs)

    return run


benchmark("flash_sale")(_elsewhere("devtools.bench_flash_sale", "flash_sale"))
benchmark("sweep_cost")(_elsewhere("devtools.bench_fanout", "sweep_cost"))
benchmark("fanout")(_elsewhere("devtools.bench_fanout", "fanout"))
benchmark("availability")(_elsewhere("devtools.bench_time", "availability"))
benchmark("time_booking")(_elsewhere("devtools.bench_time", "time_booking"))
benchmark("accounting")(_elsewhere("devtools.bench_accounting", "accounting"))
benchmark("spread_listing")(_elsewhere("devtools.bench_listing", "spread_listing"))


# --- runner -----------------------------------------------------------------------------------


def run(name: str, runs: int) -> Result:
    result = BENCHMARKS[name](runs)
    record = {
        "benchmark": name,
        "ok": result.ok,
        "summary": result.summary,
        "runs": runs,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        **result.data,
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench", description="Run local benchmarks.")
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})"
    )
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help=f"measured runs each (default {DEFAULT_RUNS})")
    args = parser.parse_args(argv)
    names: list[str] = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    for name in names:
        print(f"{name}: running...", flush=True)
        result = run(name, args.runs)
        mark = "ok" if result.ok else "OVER TARGET"
        print(f"{name}: {result.summary} [{mark}] -> {(OUT_DIR / f'{name}.json').relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
