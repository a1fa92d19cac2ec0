"""gunicorn's logs, through the logger class gunicorn.conf.py names: no client address in the
error log, the route pattern and never the raw path in the access log."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[2]
CANARY_IP = "203.0.113.77"
CANARY_IP6 = "2001:db8::77"
CANARY_AGENT = "CanaryBrowser/7.7"


@pytest.fixture
def logger(tmp_path: Path):  # type: ignore[no-untyped-def]
    logger = configured_logger(tmp_path)
    yield logger
    for handler in logger.access_log.handlers + logger.error_log.handlers:
        handler.close()


def configured_logger(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings: dict[str, object] = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), settings)  # noqa: S102 - our own config file
    config = Config()
    for name in ("logger_class", "access_log_format"):
        config.set(name, settings[name])
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("errorlog", str(tmp_path / "error.log"))
    return config.logger_class(config)


def access_line(logger, tmp_path: Path, environ: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    request = SimpleNamespace(
        method="GET", path="/cases/4711", query="tab=notes", uri="/cases/4711?tab=notes",
        version=(1, 1), headers=[("USER-AGENT", CANARY_AGENT), ("REFERER", "/cases/4711")],
    )  # fmt: skip
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])
    base = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": request.uri,
        "PATH_INFO": request.path,
        "QUERY_STRING": request.query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": CANARY_IP,
        "HTTP_USER_AGENT": CANARY_AGENT,
    }
    logger.access(response, request, {**base, **environ}, timedelta(milliseconds=3))
    for handler in logger.access_log.handlers:
        handler.flush()
    return (tmp_path / "access.log").read_text()


def test_access_log_writes_the_route_pattern_never_the_path(logger, tmp_path):
    line = access_line(logger, tmp_path, {"defuse.route": "/cases/<int:case_id>"})
    assert "GET /cases/<int:case_id> 200" in line
    for leak in ("4711", "tab=notes", CANARY_IP, CANARY_AGENT):
        assert leak not in line


def test_access_log_of_an_unmatched_request_names_no_path(logger, tmp_path):
    line = access_line(logger, tmp_path, {})
    assert "GET <unmatched> 200" in line and "4711" not in line


def test_error_log_keeps_the_reason_but_not_the_address_or_path(logger, tmp_path):
    # What gunicorn's worker writes for a malformed request and for a failed one.
    logger.warning(f"Invalid request from ip={CANARY_IP}: Invalid HTTP Version 'HTTP/9'")
    logger.warning(f"Invalid request from ip={CANARY_IP6}: Invalid Method 'G3T'")
    logger.exception("Error handling request %s %s", "GET", "/cases/4711?tab=notes")
    for handler in logger.error_log.handlers:
        handler.flush()
    written = (tmp_path / "error.log").read_text()
    assert "Invalid HTTP Version 'HTTP/9'" in written and "Invalid Method" in written
    assert "Error handling request" in written
    for leak in (CANARY_IP, CANARY_IP6, "4711"):
        assert leak not in written
