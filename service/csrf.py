"""Cross-site request forgery protection for the HTML forms.

Every page sends `Referrer-Policy: no-referrer`, so that no Defuse address (a case page, the
follow-up page) ever reaches another site; so browsers send no Referer back to Defuse either.
Flask-WTF's strict HTTPS check (WTF_CSRF_SSL_STRICT) demands a same-site Referer and so refused
every form over HTTPS. It is switched off in create_app; a form post is trusted because of:

- the CSRF token (Flask-WTF), tied to the session and signed with the secret key;
- SameSite=Lax session cookies: another site's form cannot post with a staff member's session,
  so it cannot present that session's token;
- what the browser says about where the post came from, checked here. When it names an
  Origin, that must be this site's own (scheme, host and port as the client used them, hence
  ProxyFix behind a proxy). Under no-referrer, browsers send "Origin: null" even from our own
  pages, which names no page; so Sec-Fetch-Site, which browsers send whatever the referrer
  policy, must then not say the post came from another site.
"""

from __future__ import annotations

from flask import g, request
from flask_wtf import CSRFProtect
from flask_wtf.csrf import CSRFError, same_origin

OPAQUE_ORIGIN = "null"
# "none": the person started it (typed address, bookmark); anything else came from a page.
OWN_FETCH_SITES = ("same-origin", "none")


class CSRFProtectWithOrigin(CSRFProtect):
    """Flask-WTF's token check, plus origin checks in place of its Referer check."""

    def protect(self, apply_exemptions: bool = False) -> None:
        # Flask-WTF marks g.csrf_valid once it has checked a request's token; forget a mark
        # left by an earlier request in the same app context.
        g.pop("csrf_valid", None)
        super().protect(apply_exemptions=apply_exemptions)
        if not g.get("csrf_valid"):
            return  # exempt (the JSON API) or a safe method: nothing was checked
        origin = request.headers.get("Origin")
        if origin not in (None, OPAQUE_ORIGIN) and not same_origin(origin, request.host_url):
            raise CSRFError("The Origin header does not match this site.")
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site is not None and fetch_site not in OWN_FETCH_SITES:
            raise CSRFError("The browser says this form was sent from another site.")
