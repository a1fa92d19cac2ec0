"""The real OpenID provider the single sign-on tests use (oidc-provider on Node.js), started
once per session on a free loopback port, and a person's way through its pages.

The SSO tests reach it directly over plain HTTP. The browser suite puts it behind its nginx,
over HTTPS, as production would have it: `start(..., issuer="https://...")`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

HERE = Path(__file__).parent
CLIENT_ID = "defuse"
CLIENT_SECRET = "client-secret-for-tests-only"  # noqa: S105
BASE_URL = "http://127.0.0.1:5000"  # the app's DEFUSE_BASE_URL in these tests
REDIRECT_URI = BASE_URL + "/login/oidc/callback"
ROLE_MAP = {
    "defuse-trust-leaders": "trust_leader",
    "defuse-leads": "lead",
    "defuse-hr": "hr_analyst",
    "defuse-admins": "admin",
}

# The organisation's directory, as the provider knows it: login -> claims. The login is also
# the subject ("sub"). Emails match the demo staff that tests seed.
ACCOUNTS: dict[str, dict[str, object]] = {
    "leader": {
        "email": "leader@demo.defuse",
        "email_verified": True,
        "name": "Sam",
        "groups": ["everyone", "defuse-trust-leaders"],
    },
    # Leads sit in the Trust Leaders' group too: they are leads.
    "lead": {
        "email": "lead@demo.defuse",
        "email_verified": True,
        "groups": ["defuse-trust-leaders", "defuse-leads"],
    },
    "hr": {"email": "hr@demo.defuse", "email_verified": True, "groups": ["defuse-hr"]},
    # A demo leader the directory has not put in any Defuse group.
    "no-role": {"email": "leader2@demo.defuse", "email_verified": True, "groups": ["everyone"]},
    "unverified": {
        "email": "leader3@demo.defuse",
        "email_verified": False,
        "groups": ["defuse-trust-leaders"],
    },
    "both-sides": {
        "email": "leader4@demo.defuse",
        "email_verified": True,
        "groups": ["defuse-trust-leaders", "defuse-hr"],
    },
    "newcomer": {
        "email": "newcomer@demo.defuse",
        "email_verified": True,
        "name": "Nia Newcomer",
        "groups": ["defuse-trust-leaders"],
    },
    "new-analyst": {
        "email": "new.analyst@demo.defuse",
        "email_verified": True,
        "name": "Ari Analyst",
        "groups": ["defuse-hr"],
    },
    # Another identity claiming the email of an account already linked to "leader".
    "impostor": {
        "email": "leader@demo.defuse",
        "email_verified": True,
        "groups": ["defuse-trust-leaders"],
    },
}


class ProviderNotInstalled(RuntimeError):
    pass


def install() -> None:
    """`npm ci` from the committed lock file, once (make test does it too)."""
    if (HERE / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise ProviderNotInstalled("npm is missing: make test installs Debian's nodejs and npm")
    subprocess.run(  # noqa: S603 - fixed arguments
        [npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True
    )


@dataclass
class OpenIdProvider:
    """`issuer` is what the app is configured with and browsers open; `internal_url` is the
    provider itself on loopback (the same as `issuer` unless it is behind a proxy), where the
    test controls are reached."""

    issuer: str
    internal_url: str
    redirect_uris: tuple[str, ...]
    process: subprocess.Popen[str]

    def next_id_token(self, claims: dict[str, object] | None = None, exp_offset: int | None = None):  # type: ignore[no-untyped-def]
        """Have the provider re-sign the next ID token it issues with these claims changed."""
        change: dict[str, object] = {"claims": claims or {}}
        if exp_offset is not None:
            change["exp_offset"] = exp_offset
        response = requests.post(
            f"{self.internal_url}/test-control/next-id-token", json=change, timeout=5
        )
        assert response.status_code == 204

    def reset(self) -> None:
        """Forget a change no test used (a refused sign-in may never reach the token step)."""
        requests.post(f"{self.internal_url}/test-control/next-id-token", json={}, timeout=5)

    def log_in(self, authorize_url: str, login: str, password: str = "any password") -> str:
        """Follow the authorisation request through the provider's own login and consent pages
        as a browser would; returns the URL it sends the browser back to (our callback)."""
        browser = requests.Session()
        response = browser.get(authorize_url, allow_redirects=False, timeout=5)
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if location.startswith(self.redirect_uris):
                    return location
                response = browser.get(location, allow_redirects=False, timeout=5)
                continue
            assert response.status_code == 200, response.text[:500]
            action, fields = _form(response.text)
            if fields.get("prompt") == "login":
                fields.update(login=login, password=password)
            response = browser.post(
                urljoin(response.url, action), data=fields, allow_redirects=False, timeout=5
            )
        raise AssertionError("the provider never sent the browser back")


def _form(page: str) -> tuple[str, dict[str, str]]:
    """The first form on a page: its action and hidden fields."""
    form = re.search(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", page, re.S)
    assert form, page[:500]
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(
            r"<input[^>]*type=\"hidden\"[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"",
            form.group(2),
        )
    }
    return unescape(form.group(1)), fields


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def start(
    config_dir: Path, redirect_uris: Sequence[str] = (REDIRECT_URI,), issuer: str | None = None
) -> Iterator[OpenIdProvider]:
    """Run the provider with one confidential client allowed these redirect URIs (exactly:
    the provider compares them byte for byte). With `issuer`, the provider is behind a proxy
    that terminates TLS at that URL and forwards to `internal_url` with X-Forwarded-Proto and
    -Host; without, the issuer is its own loopback address."""
    install()
    config = config_dir / "provider.json"
    settings: dict[str, object] = {
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": list(redirect_uris),
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            }
        ],
        "accounts": ACCOUNTS,
    }
    if issuer is not None:
        settings["issuer"] = issuer
    config.write_text(json.dumps(settings))
    node = shutil.which("node")
    if node is None:
        raise ProviderNotInstalled("node is missing: make test installs Debian's nodejs")
    log = (config_dir / "provider.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [node, str(HERE / "provider.mjs"), str(config)],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "DEBUG": ""},
    )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout=20)
    if not line or not line[0].strip():
        process.kill()
        raise RuntimeError(
            f"the OpenID provider did not start: {(config_dir / 'provider.log').read_text()}"
        )
    try:
        started = json.loads(line[0])
        yield OpenIdProvider(
            issuer=started["issuer"],
            internal_url=f"http://127.0.0.1:{started['port']}",
            redirect_uris=tuple(redirect_uris),
            process=process,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]
        log.close()
