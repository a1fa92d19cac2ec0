"""The language of every page: Flask-Babel with catalogues in service/translations/.

Reporters can read every page meant for them in each language the form offers; staff pages
exist in fewer (STAFF_LOCALES). The language is the one chosen with the language switcher,
kept in a cookie that holds only the language code, or else the best match for the browser's
Accept-Language header.
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale, UnknownLocaleError
from flask import Blueprint, Flask, current_app, g, has_request_context, redirect, request
from flask_babel import Babel, get_locale

from service.vocab import LANGUAGES

#: Pages for reporters (and the public) exist in every language the form offers.
REPORTER_LOCALES: tuple[str, ...] = LANGUAGES
#: Staff pages exist in these; other choices fall back to English there.
STAFF_LOCALES: tuple[str, ...] = ("en", "de", "fr")
#: The blueprints whose pages a reporter or the public reads.
REPORTER_BLUEPRINTS = frozenset({"intake", "public"})
#: Public pages in a blueprint that is otherwise for staff ("You said, we did" sits beside
#: the page where leads write it).
REPORTER_ENDPOINTS = frozenset({"feedback.public_page"})

#: The sources of the reporter's pages: their texts must be in every catalogue
#: (tests/i18n checks it), the rest only in the staff languages'.
REPORTER_SOURCES: tuple[str, ...] = (
    "service/intake/",
    "service/public/",
    "service/analytics/templates/feedback/public.html",
    "service/templates/base.html",
    "service/templates/macros.html",
    "service/templates/errors/",
    "service/errors.py",
    "service/input_guard.py",
    "service/labels.py",
    "service/schemas/reports.py",
    "service/schemas/fields.py",  # the text-field messages the form shows
    "service/config.py",  # the default crisis message
)

LANGUAGE_COOKIE = "defuse_lang"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"

babel = Babel()
bp = Blueprint("language", __name__)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(_forget_cached_locale)
    app.register_blueprint(bp)
    from service.labels import label

    app.jinja_env.globals.update(
        current_language=lambda: str(get_locale() or "en"),
        language_choices=language_choices,
        language_name=language_name,
        label=label,
    )
    app.add_template_filter(language_name)


def _forget_cached_locale() -> None:
    # Flask-Babel caches the locale in `g`, which lives as long as the app context: requests
    # that share one (a test client inside `app.app_context()`, a CLI command rendering
    # pages) would otherwise all get the first request's language.
    g.pop("_flask_babel", None)


def offered_locales() -> tuple[str, ...]:
    """The languages the current page exists in."""
    if (
        request.blueprint in REPORTER_BLUEPRINTS
        or request.endpoint in REPORTER_ENDPOINTS
        or request.endpoint in (None, "static")
    ):
        return REPORTER_LOCALES
    return STAFF_LOCALES


def is_reporter_source(path: str) -> bool:
    return path.startswith(REPORTER_SOURCES)


def select_locale() -> str | None:
    if not has_request_context():
        return None  # a CLI command: the default, English
    offered = offered_locales()
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in offered:
        return chosen
    return request.accept_languages.best_match(offered) or "en"


def language_choices() -> list[tuple[str, str]]:
    """(code, name in its own language) for the switcher, e.g. ("de", "Deutsch")."""
    return [(code, language_name(code, code)) for code in offered_locales()]


def language_name(code: str, in_locale: str | None = None) -> str:
    """A language as its speakers write it, with its name in the page's language beside it
    when different: "Deutsch (German)" on an English page, "Deutsch (allemand)" on a French
    one, "Deutsch" on a German one. Unknown codes are shown as they are."""
    try:
        language = Locale.parse(code)
        page = Locale.parse(in_locale or str(get_locale() or "en"))
    except (ValueError, UnknownLocaleError):
        return code
    own, here = language.get_display_name(code), language.get_display_name(page)
    if not own or not here:
        return code
    own, here = _capitalised(own), _capitalised(here)  # CLDR writes some in lower case
    return own if own == here else f"{own} ({here})"


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]


@bp.post("/language")
def choose_language():
    """The switcher's form: remember the choice and go back to the page it was made on."""
    from service.auth import local_path

    code = request.form.get("language", "")
    target = local_path(request.form.get("next", "")) or "/"
    response = redirect(target, code=303)
    if code in REPORTER_LOCALES:
        # A language code only: the same for everyone who chose it, so it identifies no one.
        response.set_cookie(
            LANGUAGE_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
    return response


def N_(message: str) -> str:
    """Marks a string for the catalogue without translating it here: labels are defined once
    in English (the API speaks English) and translated where a page shows them, with _()."""
    return message
