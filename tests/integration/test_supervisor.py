"""``make run`` keeps its processes up (devtools/supervisor.py): a killed child is logged and
restarted after its backoff; one that keeps dying at once is given up with a message that
says why; a crashed worker thread is started again. Real processes (a small Python child,
DynamoDB Local, chalice local), a fake clock for the backoff."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from devtools import local_stack
from devtools.ddb_local import DynamoDBLocal, free_port
from devtools.supervisor import RestartPolicy, Supervised

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


class Sleeper:
    """A child process: ``python -c <code>``."""

    def __init__(self, code: str = "import time; time.sleep(60)") -> None:
        self.code = code
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.proc = subprocess.Popen([sys.executable, "-c", self.code])

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def sleeper() -> Iterator[Sleeper]:
    child = Sleeper()
    yield child
    child.stop()


def _exit_of(child: Sleeper) -> str:
    return f"exit code {child.proc.returncode if child.proc else None}"


def test_a_killed_child_is_logged_and_restarted_after_its_backoff(sleeper: Sleeper) -> None:
    clock, lines = Clock(), list[str]()
    watch = Supervised("sleeper", sleeper, clock=clock, log=lines.append, describe_exit=lambda: _exit_of(sleeper))
    watch.start()
    assert watch.check() and sleeper.starts == 1
    first = sleeper.proc
    clock.at += 60  # it ran for a minute: a slow crash, restarted after the first delay
    sleeper.kill()
    assert watch.check()
    assert lines == ["sleeper stopped unexpectedly: exit code -9; restarting in 1 s"]
    assert watch.check() and sleeper.starts == 1  # not before the backoff is over
    clock.at += 1
    assert watch.check()
    assert sleeper.starts == 2 and sleeper.running() and sleeper.proc is not first
    assert lines[-1] == "sleeper restarted"


def test_a_child_that_keeps_dying_at_once_backs_off_then_is_given_up_with_the_reason() -> None:
    dying = Sleeper("import sys; sys.exit(3)")
    clock, lines = Clock(), list[str]()
    policy = RestartPolicy(first_delay=1, max_delay=30, fast_crash_seconds=10, give_up_after=4)
    watch = Supervised("broken", dying, policy, clock=clock, log=lines.append, describe_exit=lambda: _exit_of(dying))
    watch.start()
    delays = []
    for _ in range(20):
        assert dying.proc is not None
        dying.proc.wait()
        alive = watch.check()
        if not alive:
            break
        if watch.restart_at is not None:
            delays.append(watch.restart_at - clock.at)
            clock.at = watch.restart_at
            watch.check()  # starts it again
    assert delays == [1, 2, 4]  # doubling while it keeps crashing at once
    assert dying.starts == 4 and not watch.check()
    assert watch.gave_up == lines[-1]
    assert "broken stopped 4 times in a row, each within 10 s of starting: exit code 3" in lines[-1]
    assert "not restarting it again" in lines[-1]
    watch.restart_now()  # a code change: tried again, with a fresh count
    assert dying.starts == 5 and watch.gave_up is None


def test_a_killed_dynamodb_local_is_restarted_and_answers_again() -> None:
    ddb = DynamoDBLocal(free_port(), None)
    ddb.start()
    try:
        clock, lines = Clock(), list[str]()
        watch = Supervised("DynamoDB Local", ddb, clock=clock, log=lines.append)
        clock.at += 60
        pid = ddb.pid
        _kill(pid, ddb.running)
        assert watch.check() and lines == ["DynamoDB Local stopped unexpectedly; restarting in 1 s"]
        clock.at += 1
        assert watch.check()
        assert ddb.running() and ddb.pid != pid and lines[-1] == "DynamoDB Local restarted"
        assert ddb.client().list_tables()["TableNames"] == []  # it answers
    finally:
        ddb.stop()


def test_a_killed_chalice_local_is_restarted_and_serves_again(ddb_endpoint: str) -> None:
    port = free_port()
    ddb_port = int(ddb_endpoint.rsplit(":", 1)[1])
    options = local_stack.Options(port=port, ddb_port=ddb_port, root_key="x" * 20, reload=False)
    env = local_stack.app_environment(options, os.environ)
    chalice = local_stack.ChaliceLocal(port, env)
    clock, lines = Clock(), list[str]()
    watch = Supervised("chalice local", chalice, clock=clock, log=lines.append)
    watch.start()
    try:
        assert chalice.running()
        clock.at += 60
        _kill(chalice.pid, chalice.running)
        assert watch.check() and lines[-1].startswith("chalice local stopped unexpectedly")
        clock.at += 1
        watch.check()
        assert chalice.running() and lines[-1] == "chalice local restarted"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=10) as reply:
            assert reply.status == 200
    finally:
        chalice.stop()


def test_a_crashed_worker_is_started_again_and_one_that_keeps_crashing_is_given_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs: list[int] = []

    def flaky(stop: threading.Event) -> None:
        runs.append(1)
        if len(runs) < 3:
            raise RuntimeError("injected")
        stop.wait(60)

    stop = threading.Event()
    policy = RestartPolicy(first_delay=0.01, max_delay=0.05, fast_crash_seconds=10, give_up_after=5)
    thread = threading.Thread(target=local_stack._run_worker, args=(flaky, stop, policy), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while len(runs) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(runs) == 3 and thread.is_alive()  # crashed twice, running the third time
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert capsys.readouterr().out.count("crashed; restarting it in") == 2

    def broken(_stop: threading.Event) -> None:
        raise RuntimeError("always")

    local_stack._run_worker(broken, threading.Event(), policy)  # returns: given up
    assert "crashed 5 times in a row, each within 10 s of starting; not restarting it" in capsys.readouterr().out


def _kill(pid: int | None, running: Callable[[], bool]) -> None:
    """SIGKILL, as the OOM killer or a crash would, and wait until the child is seen dead."""
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running()
