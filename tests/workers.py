"""Real `defuse worker` processes for the tests, and waiting for what they do."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from redis import Redis
from rq import Worker

from service.extensions import db

ROOT = str(Path(__file__).resolve().parent.parent)


def _window(minutes: tuple[float, float]) -> str:
    return f"{minutes[0]},{minutes[1]}"


def worker_env(settings, redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEFUSE_")}
    env.update(
        DEFUSE_ENV="test",
        DEFUSE_SECRET_KEY=settings.secret_key,
        DEFUSE_DATABASE_URL=settings.database_url,
        DEFUSE_REDIS_URL=redis_url,
        DEFUSE_ENCRYPTION_KEYS=",".join(settings.encryption_keys),
        DEFUSE_HASH_KEY=settings.hash_key,
        DEFUSE_RATE_LIMITS_ENABLED="false",
        DEFUSE_ROUTING_DELAY_MINUTES=_window(settings.routing_delay_minutes),
        DEFUSE_ROUTING_STUCK_SECONDS=str(settings.routing_stuck_seconds),
        DEFUSE_DIGEST_MINUTES=str(settings.digest_minutes),
        DEFUSE_DIGEST_JITTER_MINUTES=str(settings.digest_jitter_minutes),
        DEFUSE_PAGE_JITTER_MINUTES=_window(settings.page_jitter_minutes),
    )
    env.update(extra)
    return env


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path | None = None) -> None:
        self.log = open(log_path, "wb") if log_path else tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.worker_process"],
            cwd=ROOT,
            env=env,
            start_new_session=True,  # its own process group: kill takes the work horse too
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def wait_ready(self, redis_url: str, timeout: float = 30) -> None:
        connection = Redis.from_url(redis_url)
        until(
            lambda: Worker.count(connection=connection) > 0 or self.process.poll() is not None,
            timeout,
        )
        if self.process.poll() is not None:
            raise AssertionError(self.output()[-3000:])

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        # Whatever of its group outlived it (a child of a worker killed alone) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if not self.log.closed:
            self.log.close()


def until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> float:
    """Wait for condition; returns the seconds it took, fails the test on timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        db.session.rollback()  # see other processes' commits
        if condition():
            return time.monotonic() - start
        time.sleep(interval)
    raise AssertionError(f"not true within {timeout} s")
