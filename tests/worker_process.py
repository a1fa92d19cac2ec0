"""Runs `defuse worker` for the tests, optionally slowing every routing job down so a test
can kill the worker in the middle of one (DEFUSE_TEST_ROUTE_DELAY, seconds)."""

from __future__ import annotations

import os
import sys
import time


def main() -> None:
    delay = float(os.environ.get("DEFUSE_TEST_ROUTE_DELAY", "0"))
    if delay:
        from service.routing import service as routing

        original = routing.route_case

        def slow_route_case(case_id: int, routing_round: int) -> str:
            time.sleep(delay)
            return original(case_id, routing_round)

        routing.route_case = slow_route_case
    from service.cli import main as cli

    sys.argv = ["defuse", "worker", *sys.argv[1:]]
    cli()


if __name__ == "__main__":
    main()
