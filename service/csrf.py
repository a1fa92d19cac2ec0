"""Cross-site request forgery protection for the HTML forms.

Every page sends `Referrer-Policy: no-referrer`, so that no Defuse address (a case page, the
follow-up page) ever reaches another site, so browsers send no Referer back to Defuse either.
Flask-WTF's strict HTTPS check (WTF_CSRF_SSL_STRICT) demands a same-site Referer and so refused
every form over HTTPS. It is switched off in create_app; a form post is trusted because of:

- the CSRF token (Flask-WTF), tied to the session and signed with the secret key;
- the Origin header, checked here: when a browser names the page a post came from, it must be
  this site's own origin (scheme, host and port as the client sees them, hence ProxyFix behind
  a proxy). Under no-referrer a browser sends "Origin: null" even from our own pages; that
  names no page and tells nothing, so it is treated like no Origin at all;
- SameSite=Lax session cookies: another site's form cannot post with the staff member's
  session, so a token from that session cannot be used.
"""

from __future__ import annotations

from flask import g, request
from flask_wtf import CSRFProtect
from flask_wtf.csrf import CSRFError, same_origin

OPAQUE_ORIGIN = "null"


class CSRFProtectWithOrigin(CSRFProtect):
    """Flask-WTF's token check, plus an Origin check in place of its Referer check."""

    def protect(self, apply_exemptions: bool = False) -> None:
        # Flask-WTF marks g.csrf_valid once it has checked a request's token; forget a mark
        # left by an earlier request in the same app context.
        g.pop("csrf_valid", None)
        super().protect(apply_exemptions=apply_exemptions)
        if not g.get("csrf_valid"):
            return  # exempt (the JSON API) or a safe method: nothing was checked
        origin = request.headers.get("Origin")
        if origin in (None, OPAQUE_ORIGIN):
            return
        if not same_origin(origin, request.host_url):
            raise CSRFError("The Origin header does not match this site.")
