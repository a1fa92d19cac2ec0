"""The versioned JSON API under /api/v1, documented by flask-smorest from the marshmallow
schemas. One module per resource; errors are JSON in the shape of errors.ErrorSchema."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from service.errors import ErrorSchema

API_PREFIX = "/api/v1"


class DefuseApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        # Errors are handled app-wide in service.errors (JSON under /api, HTML elsewhere).
        return None


api = DefuseApi()


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="Defuse API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_REDOC_PATH="docs",
        OPENAPI_REDOC_URL="/static/vendor/redoc.standalone.js",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Anonymous concern intake, Trust Leader cases and HR aggregates."
            },
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "receipt": {"type": "apiKey", "in": "header", "name": "X-Receipt"},
                }
            },
        },
    )
    api.init_app(app)
    app.before_request(guard_json_body)
    _allow_redoc_styles(app)

    from service.analytics import api as analytics_api
    from service.api import cases, org_units, reports
    from service.extensions import csrf

    for module in (org_units, reports, cases, analytics_api):
        api.register_blueprint(module.blp, url_prefix=f"{API_PREFIX}{module.PREFIX}")
        # The API authenticates by bearer token or receipt header, never by cookie, so
        # cross-site request forgery does not apply; forms keep their CSRF protection.
        csrf.exempt(module.blp)


def _allow_redoc_styles(app: Flask) -> None:
    """The vendored Redoc viewer injects its own <style> elements and runs its search in a blob:
    worker; only its page gets that allowance, every other page keeps the strict policy."""
    from service.extensions import CONTENT_SECURITY_POLICY, talisman

    docs_policy = {
        **CONTENT_SECURITY_POLICY,
        "style-src": "'self' 'unsafe-inline'",
        "worker-src": "'self' blob:",
    }
    endpoint = "api-docs.openapi_redoc"
    redoc_view = app.view_functions[endpoint]  # a bound method: Talisman needs a function

    @talisman(content_security_policy=docs_policy)
    def redoc_page():  # type: ignore[no-untyped-def]
        return redoc_view()

    app.view_functions[endpoint] = redoc_page


MAX_JSON_DEPTH = 20


def json_depth(text: str) -> int:
    """Deepest nesting of [ and { outside strings, in one pass: checked before parsing so
    that a hostile, deeply nested body is refused cheaply instead of exhausting the stack."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def guard_json_body() -> None:
    """Refuse API bodies that are not JSON, not UTF-8 or absurdly nested, with a 4xx."""
    from flask import request
    from werkzeug.exceptions import BadRequest, UnsupportedMediaType

    if not request.path.startswith(API_PREFIX) or request.method not in ("POST", "PUT", "PATCH"):
        return
    if not request.get_data(cache=True):
        if request.content_length:
            raise BadRequest("The request body could not be read.")
        return
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    try:
        text = request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The request body is not valid UTF-8.") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise BadRequest(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
