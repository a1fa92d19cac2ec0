"""Logging that never identifies a reporter.

Request lines carry the method, the route pattern, the status and the duration: no client
address, no user agent, no query string, no body. The development server's own access log
(which prints addresses) is replaced in `defuse run`, and gunicorn's in gunicorn.conf.py.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request
from werkzeug.serving import WSGIRequestHandler

request_log = logging.getLogger("defuse.request")


def init_app(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):  # type: ignore[no-untyped-def]
        started = g.get("request_started")
        elapsed_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        # The route pattern, not the path: /cases/<int:case_id>, never an id or a receipt.
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        request_log.info("%s %s %s %.1fms", request.method, route, response.status_code, elapsed_ms)
        return response


class AnonymousRequestHandler(WSGIRequestHandler):
    """Werkzeug's development server handler without its per-request access log line,
    which includes the client address. Our own request log above replaces it."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None
