"""Logging that never identifies a reporter.

Request lines carry the method, the route pattern, the status and the duration: no client
address, no user agent, no query string, no body. The development server's own access log
(which prints addresses) is replaced in `defuse run`, and gunicorn's in gunicorn.conf.py.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from typing import Any

from flask import Flask, g, request
from gunicorn.glogging import Logger as GunicornLogger
from werkzeug.serving import WSGIRequestHandler

request_log = logging.getLogger("defuse.request")

# Where the app leaves the matched route pattern for gunicorn's access log to read.
ROUTE_ENVIRON_KEY = "defuse.route"
UNMATCHED_ROUTE = "<unmatched>"
# Anything that might be an IPv4 or IPv6 address; ipaddress decides whether it is one.
_ADDRESS_CANDIDATE = re.compile(r"[0-9A-Fa-f:.]*[:.][0-9A-Fa-f:.]+")
# gunicorn names the raw request path (case ids, perhaps a query) when a request fails.
_RAW_REQUEST = re.compile(r"^(Error handling request)\b.*", re.DOTALL)


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
        route = request.url_rule.rule if request.url_rule else UNMATCHED_ROUTE
        request.environ[ROUTE_ENVIRON_KEY] = route  # for gunicorn's access log
        request_log.info("%s %s %s %.1fms", request.method, route, response.status_code, elapsed_ms)
        return response


class AnonymousRequestHandler(WSGIRequestHandler):
    """Werkzeug's development server handler without its per-request access log line,
    which includes the client address. Our own request log above replaces it."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def redact_addresses(message: str) -> str:
    """Replace every IP address in a log message with "[address]"."""

    def replace(match: re.Match[str]) -> str:
        candidate = match.group(0).strip(".:")
        try:
            ipaddress.ip_address(candidate.strip("[]"))
        except ValueError:
            return match.group(0)
        return match.group(0).replace(candidate, "[address]")

    return _ADDRESS_CANDIDATE.sub(replace, message)


class _NoClientDetails(logging.Filter):
    """gunicorn's error log writes "Invalid request from ip=..." and the raw path of a failed
    request; keep the message, drop the address and the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        message = _RAW_REQUEST.sub(r"\1 (path left out)", message)
        record.msg, record.args = redact_addresses(message), None
        return True


class AnonymousGunicornLogger(GunicornLogger):
    """gunicorn's logger (gunicorn.conf.py's logger_class) that never writes a client
    address, user agent, referrer, query string or raw path: the access log's %(U)s and %(r)s
    are the route pattern the app matched (/cases/<int:case_id>), never the path."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not any(isinstance(f, _NoClientDetails) for f in self.error_log.filters):
            self.error_log.addFilter(_NoClientDetails())

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict:  # type: ignore[type-arg]
        atoms = super().atoms(resp, req, environ, request_time)
        route = environ.get(ROUTE_ENVIRON_KEY, UNMATCHED_ROUTE)
        atoms.update(
            {"h": "-", "a": "-", "f": "-", "q": "", "U": route, "r": f"{atoms['m']} {route}"}
        )
        return atoms
