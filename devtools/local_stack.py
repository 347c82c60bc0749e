"""``make run``: the whole booking engine on this machine, stopped together by Ctrl-C.

1. DynamoDB Local on ``DDB_PORT`` (default 8001), data kept in ``.data/dynamodb/``
   (its log in ``.data/dynamodb-local.log``), so the next run finds today's data;
2. the table (``chalicelib.store.schema.create_table_if_absent``);
3. a demo company, created once and reused while it exists; its keys, admin
   login and the root key go to ``.data/demo-credentials.json``;
4. ``chalice local --stage local --no-autoreload`` on ``127.0.0.1:PORT`` (default
   8000), restarted by this process when ``app.py``, ``chalicelib/**.py`` or
   ``.chalice/config.json`` change (``RELOAD=0`` turns that off). Chalice's own
   reloader is not used: it polls every file under the repository (``.venv``,
   ``node_modules``, and ``.data`` that DynamoDB Local writes to all the time,
   which would restart the server after every write);
5. the background workers of :func:`background_workers`, as daemon threads.

DynamoDB Local and chalice local are supervised (:mod:`devtools.supervisor`): one that
dies is logged and restarted after a backoff, and given up (the stack stops; chalice,
with reload, waits for a code change) after 5 crashes in a row within 10 s of starting.
A worker that crashes is restarted the same way.

SIGINT, SIGTERM and SIGHUP all end in the one ``finally`` of :func:`main`, which
stops, in order: the workers, chalice, DynamoDB Local. Environment read:
``PORT``, ``DDB_PORT``, ``BOOKING_ROOT_KEY`` (default ``LOCAL_ROOT_KEY``), ``RELOAD``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from devtools.ddb_local import (
    FAKE_ACCESS_KEY,
    FAKE_SECRET_KEY,
    REGION,
    ROOT,
    DynamoDBLocal,
    DynamoDBLocalError,
    die_with_parent,
    port_in_use,
    require_java,
)
from devtools.supervisor import Backoff, RestartPolicy, Supervised

DATA = ROOT / ".data"
DB_DIR = DATA / "dynamodb"
DDB_LOG = DATA / "dynamodb-local.log"
CREDENTIALS = DATA / "demo-credentials.json"
FANOUT_STATE = DATA / "fanout.sqlite3"  # the dispatcher's queues and stream position (devtools/local_queues.py)
TABLE_NAME = "booking-engine"
STAGE = "local"

DEMO_COMPANY = "Demo Company"
DEMO_ADMIN_EMAIL = "admin@demo.example"
DEMO_TIMEZONE = "Europe/London"

CHALICE_START_SECONDS = 30.0
STOP_GRACE_SECONDS = 10.0
WORKER_JOIN_SECONDS = 5.0
WATCHED = ("app.py", ".chalice/config.json")
WORKER_RESTARTS = RestartPolicy()
WATCHED_TREES = ("chalicelib",)

Worker = Callable[[threading.Event], None]
"""A background loop: runs until the event is set; sleep with ``stop.wait(seconds)``."""


def background_workers() -> list[Worker]:
    """The loops that run beside the API in this process (an expiry sweeper, a webhook dispatcher...).

    Add yours here, imported inside this function, for instance::

        from chalicelib.services.expiry import sweep_forever
        return [sweep_forever]

    Each is called as ``worker(stop)`` in its own daemon thread once the table
    and the demo company exist, with ``os.environ`` already set as the app sees
    it (``DYNAMODB_ENDPOINT``, ``TABLE_NAME``...). It must return soon after
    ``stop`` is set (use ``stop.wait(interval)`` as its sleep): shutdown waits
    5 s for each before stopping DynamoDB Local. An exception is printed and
    ends that worker only.
    """
    return [sweep_every, dispatch_fanout]


def dispatch_fanout(stop: threading.Event) -> None:
    """The outbox through DynamoDB Local's stream to webhooks and emails (.eml files in MAIL_DIR),
    with the Lambda handlers' code; durable local queues (FANOUT_STATE) stand in for SNS and SQS."""
    import boto3

    from devtools.dispatcher import Dispatcher

    endpoint = os.environ["DYNAMODB_ENDPOINT"]
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=REGION)
    dispatcher = Dispatcher(client, streams, TABLE_NAME, FANOUT_STATE).install()
    print(f"dispatcher: webhooks and emails from the outbox (mail in {os.environ.get('MAIL_DIR', '.data/mail')}/)")
    dispatcher.run(stop, interval=float(os.environ.get("DISPATCH_SECONDS", "0.5")))


def sweep_every(stop: threading.Event) -> None:
    """What the deployed schedule does every minute, every SWEEP_SECONDS (default 15) here."""
    from chalicelib.services.selling.sweeper import sweep

    interval = float(os.environ.get("SWEEP_SECONDS", "15"))
    while not stop.wait(interval):
        try:
            report = sweep(budget_seconds=interval)
        except Exception as error:  # a failed pass is reported; the next one tries again
            print(f"sweeper: {type(error).__name__}: {error}", flush=True)
            continue
        if report.applied:
            print(f"sweeper: applied {report.applied} due item(s) {report.by_kind}", flush=True)


class Shutdown(BaseException):
    """Raised in the main thread by a stop signal (a BaseException so ``except Exception`` can't eat it)."""


@dataclass(frozen=True)
class Options:
    port: int
    ddb_port: int
    root_key: str
    reload: bool

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ddb_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ddb_port}"


def read_options(environ: Mapping[str, str]) -> Options:
    from chalicelib.settings_model import LOCAL_ROOT_KEY

    def number(name: str, default: int) -> int:
        raw = environ.get(name) or str(default)
        try:
            value = int(raw)
        except ValueError:
            raise SystemExit(f"{name} must be a port number, not {raw!r}") from None
        if not 0 < value < 65536:
            raise SystemExit(f"{name} must be a port number, not {raw!r}")
        return value

    options = Options(
        port=number("PORT", 8000),
        ddb_port=number("DDB_PORT", 8001),
        root_key=environ.get("BOOKING_ROOT_KEY") or LOCAL_ROOT_KEY,
        reload=environ.get("RELOAD", "1").lower() not in ("0", "false", "no", "off"),
    )
    if options.port == options.ddb_port:
        raise SystemExit(f"PORT and DDB_PORT must differ (both are {options.port})")
    return options


def app_environment(options: Options, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of the app: ``base`` plus what ``chalicelib.settings`` reads.

    ``chalice local`` (and chalice's test client) lay the ``local`` stage's
    ``environment_variables`` from ``.chalice/config.json`` over this, so that
    stage holds only STAGE: TABLE_NAME, DYNAMODB_ENDPOINT and BOOKING_ROOT_KEY
    come from here (and from the tests' fixtures, which set their own TABLE_NAME).
    """
    env = dict(base)
    env.update(
        STAGE=STAGE,
        TABLE_NAME=TABLE_NAME,
        DYNAMODB_ENDPOINT=options.ddb_endpoint,
        AWS_DEFAULT_REGION=REGION,
        BOOKING_ROOT_KEY=options.root_key,
        PYTHONUNBUFFERED="1",
    )
    # Links in emails (action links, waitlist offers, calendars) point at this server's port.
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{options.port}")
    # DynamoDB Local with -sharedDb accepts any credentials; keep real ones if set.
    env.setdefault("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY)
    env.setdefault("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_KEY)
    return env


# --- demo company --------------------------------------------------------------------------


def _read_credentials() -> dict[str, Any] | None:
    try:
        saved = json.loads(CREDENTIALS.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or not isinstance(saved.get("company_id"), int):
        return None
    return saved


def _write_credentials(saved: Mapping[str, Any]) -> None:
    CREDENTIALS.parent.mkdir(parents=True, exist_ok=True)
    partial = CREDENTIALS.with_suffix(".json.tmp")
    # Secrets inside: readable by the owner only.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(saved, handle, indent=2)
        handle.write("\n")
    partial.replace(CREDENTIALS)


def ensure_demo_company(options: Options) -> tuple[dict[str, Any], bool]:
    """The demo company's credentials, and whether it was created just now.

    Reuses the company in ``.data/demo-credentials.json`` while it exists in the
    table; otherwise (first run, ``make clean``, a wiped table) creates a new one
    with a fresh random admin password.
    """
    from chalicelib.domain.errors import NotFound
    from chalicelib.services.identity import companies

    saved = _read_credentials()
    created = False
    if saved is not None:
        try:
            companies.get_company(saved["company_id"])
        except NotFound:
            saved = None
    if saved is None:
        password = secrets.token_urlsafe(12)
        new = companies.create_company(
            name=DEMO_COMPANY,
            admin_email=DEMO_ADMIN_EMAIL,
            admin_password=password,
            timezone=DEMO_TIMEZONE,
        )
        company: Any = new.company  # PynamoDB model: attributes typed loosely
        saved = {
            "company_id": int(company.company_id),
            "app_id": str(company.app_id),
            "app_key": new.keys.app_key,
            "api_key": new.keys.api_key,
            "admin_email": DEMO_ADMIN_EMAIL,
            "admin_password": password,
        }
        created = True
    saved.update(root_key=options.root_key, api_url=options.api_url)
    _write_credentials(saved)
    return saved, created


def banner(options: Options, saved: Mapping[str, Any], created: bool) -> str:
    url = options.api_url
    cid = saved["company_id"]
    q = shlex.quote
    state = "created" if created else "reused"
    return "\n".join(
        [
            "",
            f"Booking engine (stage local) at {url}",
            f"  DynamoDB Local  {options.ddb_endpoint}  data {DB_DIR.relative_to(ROOT)}/"
            f"  log {DDB_LOG.relative_to(ROOT)}",
            f"  Demo company    {saved.get('company_id')} ({state}), app id {saved.get('app_id')}"
            f"  -> {CREDENTIALS.relative_to(ROOT)}",
            f"  Admin login     {saved.get('admin_email')} / {saved.get('admin_password')}",
            f"  App key         {saved.get('app_key')}",
            f"  API key         {saved.get('api_key')}",
            f"  Root key        {options.root_key}",
            "",
            "Try:",
            f"  curl -s {url}/platform/companies/{cid} -H {q('Authorization: Bearer ' + options.root_key)}",
            f"  curl -s {url}/api/v1/company/{cid} -H {q('App-Id: ' + str(saved.get('app_id')))}"
            f" -H {q('App-Key: ' + str(saved.get('app_key')))}",
            "",
            "Ctrl-C stops everything." + ("" if not options.reload else " Code changes restart the API."),
            "",
        ]
    )


# --- chalice local -------------------------------------------------------------------------


def _chalice_executable() -> str:
    for candidate in (Path(sys.executable).parent / "chalice", ROOT / ".venv" / "bin" / "chalice"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise SystemExit("chalice is not installed in the virtualenv. Run: make venv")


class ChaliceLocal:
    """``chalice local`` as a child process (single process: --no-autoreload)."""

    def __init__(self, port: int, env: Mapping[str, str]) -> None:
        self.port = port
        self.env = dict(env)
        self._proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [
            _chalice_executable(),
            "local",
            "--stage",
            STAGE,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-autoreload",
        ]

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> bool:
        """Start it and wait until the port answers; False if it exited first (the supervisor says so)."""
        # Own session: the terminal's Ctrl-C reaches only us; we stop it in order.
        # Always started from the main thread (die_with_parent is per thread).
        self._proc = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + CHALICE_START_SECONDS
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return True
            time.sleep(0.1)
        print(f"chalice local did not open port {self.port} within {CHALICE_START_SECONDS:.0f} s", flush=True)
        return self.running()

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def code_snapshot() -> dict[str, int]:
    """Modification times of the files whose change restarts ``chalice local``."""
    paths = [ROOT / name for name in WATCHED]
    for tree in WATCHED_TREES:
        paths.extend((ROOT / tree).rglob("*.py"))
    snapshot: dict[str, int] = {}
    for path in paths:
        with contextlib.suppress(OSError):
            snapshot[str(path)] = path.stat().st_mtime_ns
    return snapshot


# --- workers ----------------------------------------------------------------------------------


def _run_worker(worker: Worker, stop: threading.Event, policy: RestartPolicy = WORKER_RESTARTS) -> None:
    """Run ``worker`` until ``stop``; a crash is printed and the worker started again after a backoff."""
    backoff = Backoff(policy)
    while not stop.is_set():
        started = time.monotonic()
        try:
            worker(stop)
            return
        except Exception:
            delay = backoff.crashed(time.monotonic() - started)
            if delay is None:
                print(
                    f"background worker {_name(worker)} crashed {policy.give_up_after} times in a row, each within "
                    f"{policy.fast_crash_seconds:.0f} s of starting; not restarting it:\n{traceback.format_exc()}",
                    flush=True,
                )
                return
            print(
                f"background worker {_name(worker)} crashed; restarting it in {delay:.0f} s:\n{traceback.format_exc()}",
                flush=True,
            )
            stop.wait(delay)


def _name(worker: Worker) -> str:
    return getattr(worker, "__qualname__", None) or repr(worker)


def start_workers(workers: list[Worker], stop: threading.Event) -> list[threading.Thread]:
    threads = []
    for worker in workers:
        thread = threading.Thread(target=_run_worker, args=(worker, stop), name=_name(worker), daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def stop_workers(threads: list[threading.Thread], stop: threading.Event) -> None:
    stop.set()
    for thread in threads:
        thread.join(timeout=WORKER_JOIN_SECONDS)
        if thread.is_alive():
            print(f"background worker {thread.name} did not stop within {WORKER_JOIN_SECONDS:.0f} s", flush=True)


# --- signals and main ------------------------------------------------------------------------

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _on_stop_signal(signum: int, _frame: FrameType | None) -> None:
    # Once: a second Ctrl-C while shutting down only says so (stop() kills after 10 s).
    for sig in STOP_SIGNALS:
        signal.signal(sig, _already_stopping)
    raise Shutdown(signal.Signals(signum).name)


def _already_stopping(_signum: int, _frame: FrameType | None) -> None:
    print("(already stopping)", flush=True)


def supervise(options: Options, ddb: Supervised, chalice: Supervised) -> int:
    """Watch the children (and the code, with reload) until a signal arrives; an exit code otherwise.

    A child that dies is restarted (devtools/supervisor.py). Given up: DynamoDB Local ends the
    stack (nothing works without it); chalice local ends it too, unless reload is on, when a
    code change (the likely fix) starts it again.
    """
    snapshot = code_snapshot() if options.reload else {}
    waiting = False
    while True:
        time.sleep(1.0)
        if not ddb.check():
            print(f"\nStopping: DynamoDB Local cannot be kept running; see {DDB_LOG}", file=sys.stderr, flush=True)
            return 1
        if options.reload:
            current = code_snapshot()
            if current != snapshot:
                snapshot = current
                waiting = False
                print("\nCode changed: restarting chalice local", flush=True)
                chalice.restart_now()
                if chalice.child.running():
                    print(f"API back at {options.api_url}", flush=True)
                continue
        if not chalice.check():
            if not options.reload:
                return 1
            if not waiting:
                waiting = True
                print("Waiting for a code change to start chalice local again (Ctrl-C quits).", flush=True)


def main() -> int:
    options = read_options(os.environ)
    require_java()
    if port_in_use(options.port):
        raise SystemExit(f"port {options.port} is already in use; choose another with PORT=...")
    env = app_environment(options, os.environ)

    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_stop_signal)

    ddb = DynamoDBLocal(options.ddb_port, DB_DIR, log_path=DDB_LOG)
    chalice = ChaliceLocal(options.port, env)
    chalice_watch = Supervised("chalice local", chalice, describe_exit=lambda: f"exit code {chalice.returncode}")
    stop = threading.Event()
    threads: list[threading.Thread] = []
    code = 0
    try:
        print(f"Starting DynamoDB Local on {options.ddb_endpoint} (data in {DB_DIR.relative_to(ROOT)}/)...")
        try:
            ddb.start()  # failing at the first start ends the run, with the log's tail
        except DynamoDBLocalError as exc:
            print(exc, file=sys.stderr)
            return 1
        ddb_watch = Supervised(
            "DynamoDB Local", ddb, describe_exit=lambda: f"exit code {ddb.returncode} (its log: {DDB_LOG})"
        )
        # The app's settings are read lazily from os.environ: set it for the
        # in-process seeding and workers too.
        os.environ.update(env)
        from chalicelib.settings import reset_settings
        from chalicelib.store.schema import create_table_if_absent

        reset_settings()
        if create_table_if_absent(ddb.client(), TABLE_NAME):
            print(f"Created table {TABLE_NAME}")
        saved, created = ensure_demo_company(options)

        print(f"Starting chalice local on {options.api_url}...", flush=True)
        chalice_watch.start()
        if not chalice.running() and not options.reload:
            print(f"chalice local exited with code {chalice.returncode}", file=sys.stderr, flush=True)
            return chalice.returncode or 1
        threads = start_workers(background_workers(), stop)
        print(banner(options, saved, created), flush=True)
        code = supervise(options, ddb_watch, chalice_watch)
    except Shutdown as why:
        print(f"\n{why}: stopping...", flush=True)
    finally:
        # The one place everything stops, whatever happened above.
        for sig in STOP_SIGNALS:
            signal.signal(sig, _already_stopping)
        stop_workers(threads, stop)
        chalice.stop()
        ddb.stop()
        print("Stopped chalice local and DynamoDB Local.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
