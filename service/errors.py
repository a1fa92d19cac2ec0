"""Error handling in one place: JSON under /api (`{"error": {"code", "message", "fields"}}`),
friendly HTML pages elsewhere. No error message ever echoes report text."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_wtf.csrf import CSRFError
from marshmallow import Schema, fields
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

log = logging.getLogger(__name__)


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "machine-readable, e.g. invalid"})
    message = fields.String(required=True)
    fields = fields.Dict(
        keys=fields.String(),
        metadata={"description": "per-field messages, for validation errors"},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


# What an HTML error page says when the code raising the error gave no message of its own
# (the framework's wording is technical and English only).
PAGE_MESSAGES = {
    400: lazy_gettext("The page could not understand what was sent. Nothing was saved."),
    403: lazy_gettext("You do not have access to this page."),
    404: lazy_gettext("There is nothing at this address. Check it, or start again."),
    405: lazy_gettext("This page cannot be used that way. Go back and try again."),
    413: lazy_gettext(
        "What you sent is too large for us to take in, so nothing was sent or stored. An account "
        "or message can be up to 5,000 characters: go back, shorten it and send it again."
    ),
    429: lazy_gettext("Too many attempts in a short time. Wait a few minutes and try again."),
    500: lazy_gettext("Something went wrong on our side. Nothing was saved."),
    503: lazy_gettext(
        "The service is temporarily unavailable. Nothing was saved; please try again shortly."
    ),
}


def _page_message(error: HTTPException, status: int) -> str:
    """The error's own message if the code raising it wrote one, else ours for its status."""
    if error.description and error.description != type(error).description:
        return error.description
    return str(PAGE_MESSAGES.get(status, PAGE_MESSAGES[400]))


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/readyz")


def _flatten_fields(messages: Any) -> dict[str, Any]:
    """webargs nests messages by location ({"json": {...}}); clients want field -> messages."""
    if not isinstance(messages, dict):
        return {}
    flat: dict[str, Any] = {}
    for location, per_field in messages.items():
        if location in ("json", "query", "headers", "form", "files") and isinstance(
            per_field, dict
        ):
            flat.update(per_field)
        else:
            flat[location] = per_field
    return flat


def json_error(status: int, message: str, field_messages: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"code": CODES.get(status, "error"), "message": message}
    if field_messages:
        body["fields"] = field_messages
    response = jsonify({"error": body})
    response.status_code = status
    return response


def handle_http_exception(error: HTTPException):  # type: ignore[no-untyped-def]
    status = error.code or 500
    if _wants_json():
        data = getattr(error, "data", None) or {}
        field_messages = _flatten_fields(data.get("messages"))
        message = data.get("message") or error.description or "Error"
        if field_messages and status == 422:
            message = "Some fields are invalid."
        response = json_error(status, message, field_messages)
        for name, value in (data.get("headers") or {}).items():
            response.headers[name] = value
        # Keep what the exception says about itself (Allow on a 405, Retry-After on a 429),
        # but not its HTML content type.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
    return (
        render_template(
            "errors/error.html", status=status, error=error, message=_page_message(error, status)
        ),
        status,
    )


def handle_csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
    if _wants_json():
        return json_error(400, "The form's security token is missing or has expired.")
    return (
        render_template(
            "errors/error.html",
            status=400,
            error=error,
            message=gettext(
                "This form was open too long or was sent from elsewhere. "
                "Please go back, reload the page and try again. Nothing was saved."
            ),
        ),
        400,
    )


# SQLSTATE classes and codes meaning "the database cannot take this now", not "a bug":
# 08 connection exception, 53 insufficient resources (disk full, out of memory),
# 57P0x shutdown / crash recovery, 25006 read-only transaction, 40001/40P01 serialisation.
UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "53", "57P0", "25006", "40001", "40P01")


def database_unavailable(error: DBAPIError) -> bool:
    if isinstance(error, OperationalError):  # SQLite: locked, read-only, disk full; lost links
        return True
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    return sqlstate.startswith(UNAVAILABLE_SQLSTATE_PREFIXES)


def handle_database_error(error: DBAPIError):  # type: ignore[no-untyped-def]
    """A database that is down, full or read-only is a clear 503, never a half-written case:
    every write happens in one transaction, which is rolled back here."""
    if not database_unavailable(error):
        return handle_unexpected(error)
    rollback()
    log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else "?")
    response = handle_http_exception(ServiceUnavailable(str(PAGE_MESSAGES[503])))
    if isinstance(response, tuple):
        response = make_response(*response)
    response.headers["Retry-After"] = "30"
    return response


def rollback() -> None:
    from service.extensions import db

    try:
        db.session.rollback()
    except DBAPIError:  # the connection is gone; the pool discards it
        log.warning("rollback on a lost database connection")


def handle_unexpected(error: Exception):  # type: ignore[no-untyped-def]
    rollback()
    # Only the exception type: its message could quote report text.
    log.error("unhandled %s on %s", type(error).__name__, request.url_rule)
    return handle_http_exception(
        InternalServerError(gettext("Something went wrong on our side. Nothing was saved."))
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
