"""devtools.ddb_local.cpu_seconds_by_thread_group: a JVM's CPU split by what its threads do."""

from __future__ import annotations

import os
from pathlib import Path

from devtools.ddb_local import cpu_seconds_by_thread_group


def _thread(proc: Path, pid: int, tid: int, name: str, utime: int, stime: int) -> None:
    task = proc / str(pid) / "task" / str(tid)
    task.mkdir(parents=True)
    # Fields 3 to 13 before utime (14) and stime (15); a name may hold spaces and parentheses.
    before = "S 1 1 1 0 -1 4194560 100 0 0 0"
    (task / "stat").write_text(f"{tid} ({name}) {before} {utime} {stime} 0 0 20 0 40 0 1000\n")


def test_threads_are_grouped_and_their_ticks_summed(tmp_path: Path) -> None:
    ticks = os.sysconf("SC_CLK_TCK")
    _thread(tmp_path, 7, 7, "java", 1 * ticks, 0)
    _thread(tmp_path, 7, 8, "SQLiteQueue[]", 3 * ticks, 1 * ticks)
    _thread(tmp_path, 7, 9, "qtp1234-17", 2 * ticks, 0)
    _thread(tmp_path, 7, 10, "qtp1234-18", 0, 1 * ticks)
    _thread(tmp_path, 7, 11, "C2 CompilerThre", 5 * ticks, 0)
    _thread(tmp_path, 7, 12, "C1 CompilerThre", 1 * ticks, 0)
    _thread(tmp_path, 7, 13, "GC Thread#0", 0, 2 * ticks)
    _thread(tmp_path, 7, 14, "odd (name) qtp", 4 * ticks, 0)  # "qtp" inside a name is not a Jetty thread

    assert cpu_seconds_by_thread_group(7, proc=tmp_path) == {"sqlite": 4.0, "http": 3.0, "jit": 6.0, "other": 7.0}


def test_a_process_without_threads_spent_nothing(tmp_path: Path) -> None:
    (tmp_path / "7" / "task").mkdir(parents=True)
    assert cpu_seconds_by_thread_group(7, proc=tmp_path) == {"sqlite": 0.0, "http": 0.0, "jit": 0.0, "other": 0.0}
