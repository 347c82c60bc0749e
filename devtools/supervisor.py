"""Restarting what ``make run`` runs: child processes (DynamoDB Local, ``chalice local``) and worker threads.

A child that dies is logged and started again after a backoff (1 s, doubling up to
30 s while it keeps crashing soon after starting). After ``give_up_after`` crashes in
a row, each within ``fast_crash_seconds`` of its start, restarting is not going to
help (a broken install, a port taken, a syntax error): it is given up with a message
that says so, and the caller decides (``make run`` exits, or with reload waits for a
code change). A child that ran for longer than that before dying starts a new count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RestartPolicy:
    first_delay: float = 1.0
    max_delay: float = 30.0
    fast_crash_seconds: float = 10.0
    give_up_after: int = 5


class Backoff:
    """Counts crashes in a row; says how long to wait before the next start, or None: give up."""

    def __init__(self, policy: RestartPolicy) -> None:
        self.policy = policy
        self.fast_crashes = 0

    def crashed(self, lifetime: float) -> float | None:
        policy = self.policy
        self.fast_crashes = self.fast_crashes + 1 if lifetime < policy.fast_crash_seconds else 0
        if self.fast_crashes >= policy.give_up_after:
            return None
        return float(min(policy.max_delay, policy.first_delay * 2.0 ** max(0, self.fast_crashes - 1)))

    def reset(self) -> None:
        self.fast_crashes = 0


class Child(Protocol):
    """A process the supervisor can start, watch and stop (DynamoDBLocal, ChaliceLocal)."""

    def start(self) -> object: ...  # may raise, or return with the process already gone: both are crashes

    def running(self) -> bool: ...

    def stop(self) -> None: ...


class Supervised:
    """One child under a restart policy; :meth:`check` is called from the supervising loop."""

    def __init__(
        self,
        name: str,
        child: Child,
        policy: RestartPolicy | None = None,
        *,
        describe_exit: Callable[[], str] = lambda: "",
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] = lambda line: print(line, flush=True),
    ) -> None:
        self.name = name
        self.child = child
        self.policy = policy or RestartPolicy()
        self.describe_exit = describe_exit
        self.clock = clock
        self.log = log
        self.backoff = Backoff(self.policy)
        self.started_at = clock()
        self.restart_at: float | None = None
        self.gave_up: str | None = None
        self.restarts = 0

    def start(self) -> None:
        self.started_at = self.clock()
        try:
            self.child.start()
        except Exception as error:  # counted as a crash by the next check
            self.log(f"{self.name} did not start: {error}")

    def check(self) -> bool:
        """Restart the child if it died and its backoff is over; False once given up."""
        if self.gave_up is not None:
            return False
        now = self.clock()
        if self.restart_at is None:
            if self.child.running():
                return True
            why = self.describe_exit()
            self.child.stop()  # reap it and release what it held (its log file)
            delay = self.backoff.crashed(now - self.started_at)
            if delay is None:
                self.gave_up = (
                    f"{self.name} stopped {self.policy.give_up_after} times in a row, each within "
                    f"{self.policy.fast_crash_seconds:.0f} s of starting{': ' + why if why else ''}; "
                    "not restarting it again"
                )
                self.log(self.gave_up)
                return False
            self.log(f"{self.name} stopped unexpectedly{': ' + why if why else ''}; restarting in {delay:.0f} s")
            self.restart_at = now + delay
            return True
        if now >= self.restart_at:
            self.restart_at = None
            self.restarts += 1
            self.start()
            if self.child.running():
                self.log(f"{self.name} restarted")
        return True

    def restart_now(self) -> None:
        """A deliberate restart (code changed): a fresh count, and a given-up child is tried again."""
        self.backoff.reset()
        self.gave_up = None
        self.restart_at = None
        self.child.stop()
        self.start()
