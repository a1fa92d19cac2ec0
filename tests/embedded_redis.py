"""A private redis-server for test runs without DEFUSE_TEST_REDIS_URL: the worker tests need a
real Redis protocol peer (RQ uses Lua scripts and client commands that fakes lack). It runs on
a free local port, keeps nothing on disk, and stops with the test session."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class EmbeddedRedis:
    """`with EmbeddedRedis() as url`; a fault test may also stop() and start() it again on the
    same port (it keeps nothing: a restart loses every key, as a real crash without
    persistence would)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port

    def __enter__(self) -> str:
        return self.start()

    def start(self) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: run scripts/ensure-tools redis-server "
                "or set DEFUSE_TEST_REDIS_URL"
            )
        port = self.port = self.port or _free_port()
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while True:
            try:
                Redis.from_url(url).ping()
                return url
            except RedisConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the private redis-server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.stop()
