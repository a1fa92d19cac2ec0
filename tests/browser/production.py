"""Defuse as production runs it, on this machine: gunicorn (gunicorn.conf.py) in production mode
with fresh keys, behind Debian's nginx terminating TLS with a certificate made here and setting
the forwarding headers, with DEFUSE_TRUSTED_PROXIES=1. Both run as the test user on free
loopback ports, from files in a temporary folder; the system nginx is never touched.

The staff's single sign-on goes through the real OpenID provider the SSO tests use
(tests/oidc), behind the same nginx on a port of its own, so that its issuer is https:// as
production requires. gunicorn trusts the test certificate for its own calls to the provider
(discovery, keys, the code exchange), as it would trust an organisation's internal CA.

See tests/browser/conftest.py for the fixtures built on it.
"""

from __future__ import annotations

import contextlib
import datetime
import grp
import ipaddress
import itertools
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from limits.storage import storage_from_string
from sqlalchemy import create_engine, inspect, text

from service.config import PROJECT_ROOT, Settings
from service.db import utcnow
from service.extensions import db
from service.people import create_user
from service.privacy.crypto import keyring, new_key
from tests.conftest import empty_postgresql, make_lasting_app
from tests.oidc.provider import CLIENT_ID, CLIENT_SECRET, ROLE_MAP, OpenIdProvider

HOST = "localhost"  # the name in the certificate and in every URL the browser opens
START_TIMEOUT = 90  # seconds: gunicorn loads the rules and the classifier before it listens


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def find_nginx() -> str:
    # Debian installs it in /usr/sbin, which an ordinary user's PATH may lack.
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found is None:
        raise RuntimeError("nginx is not installed: run scripts/ensure-tools nginx (make test)")
    return found


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "site.crt", folder / "site.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _server_block(port: int, upstream_port: int, cert: Path, key: Path, extra: str = "") -> str:
    return f"""
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name {HOST};
        ssl_certificate {cert};
        ssl_certificate_key {key};{extra}
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
        }}
    }}"""


def nginx_config(
    folder: Path,
    port: int,
    upstream_port: int,
    cert: Path,
    key: Path,
    provider: tuple[int, int] | None = None,
) -> str:
    """The README's reverse proxy, on a private port, with every path inside `folder`; with
    `provider` (its public port, its loopback port), a second TLS server for the OpenID
    provider, as an organisation's identity provider also sits behind TLS.

    The Host and X-Forwarded-Host carry the port ($http_host) because this port is not 443.
    """
    # Run as root (CI), nginx would hand its workers to "nobody", who cannot read this folder.
    user = ""
    if os.geteuid() == 0:
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    servers = _server_block(port, upstream_port, cert, key, "\n        client_max_body_size 64k;")
    if provider is not None:
        servers += _server_block(*provider, cert, key)
    return f"""
{user}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;  # a client address must never be written down
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};{servers}
}}
"""


@dataclass(frozen=True)
class StaffAccount:
    """A staff account made by ProductionSite.create_staff, with its password in clear and,
    when it has a second factor, the secret its authenticator app would hold."""

    id: int
    email: str
    password: str
    role: str
    totp_secret: str | None = None

    def code(self) -> str:
        """The code the authenticator app shows now."""
        assert self.totp_secret, f"{self.email} has no second factor"
        return pyotp.TOTP(self.totp_secret).now()


class ProductionSite:
    """gunicorn behind nginx, and the means for tests to set up data in its database.

    `url` is what a browser opens (https, through nginx); `internal_url` is gunicorn itself over
    plain HTTP, as compose's health check reaches it.
    """

    def __init__(self, folder: Path, database_url: str, redis_url: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.redis_url = redis_url
        self.port = free_port()
        self.internal_port = free_port()
        self.url = f"https://{HOST}:{self.port}"
        self.internal_url = f"http://127.0.0.1:{self.internal_port}"
        # Where nginx serves the OpenID provider (its issuer), and the redirect URI registered
        # for the site there: DEFUSE_BASE_URL's callback, byte for byte.
        self.provider_port = free_port()
        self.provider_url = f"https://{HOST}:{self.provider_port}"
        self.callback_url = self.url + "/login/oidc/callback"
        self.provider: OpenIdProvider | None = None
        self.certificate, self._key = make_certificate(folder)
        # Fresh production keys, known only to this session.
        self.secret_key = secrets.token_urlsafe(48)
        self.hash_key = secrets.token_urlsafe(48)
        self.encryption_key = new_key()
        self._app: Flask | None = None
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._numbers = itertools.count(1)

    # --- running ---------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """What gunicorn is started with: the production settings, as an operator sets them."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEFUSE_")}
        env.update(
            DEFUSE_ENV="production",
            DEFUSE_SECRET_KEY=self.secret_key,
            DEFUSE_HASH_KEY=self.hash_key,
            DEFUSE_ENCRYPTION_KEYS=self.encryption_key,
            DEFUSE_DATABASE_URL=self.database_url,
            DEFUSE_REDIS_URL=self.redis_url,
            DEFUSE_BASE_URL=self.url,
            DEFUSE_TRUSTED_PROXIES="1",
            DEFUSE_BIND=f"127.0.0.1:{self.internal_port}",
            DEFUSE_WEB_WORKERS="2",
            # gunicorn's control socket goes here, not into the home folder shared with others.
            XDG_RUNTIME_DIR=str(self.folder),
        )
        if self.provider is not None:
            env.update(
                DEFUSE_OIDC_ISSUER=self.provider.issuer,
                DEFUSE_OIDC_CLIENT_ID=CLIENT_ID,
                DEFUSE_OIDC_CLIENT_SECRET=CLIENT_SECRET,
                DEFUSE_OIDC_SCOPES="openid email profile groups",
                DEFUSE_OIDC_ROLE_CLAIM="groups",
                DEFUSE_OIDC_ROLE_MAP=",".join(f"{g}={r}" for g, r in ROLE_MAP.items()),
                # Passwords stay on beside single sign-on: the password and TOTP tests use them.
                DEFUSE_LOCAL_SIGN_IN="on",
                # Authlib's client is a requests Session, which verifies TLS against
                # REQUESTS_CA_BUNDLE (else certifi's bundle, never the system's); SSL_CERT_FILE
                # covers anything on OpenSSL's defaults. Only the test certificate is trusted.
                REQUESTS_CA_BUNDLE=str(self.certificate),
                SSL_CERT_FILE=str(self.certificate),
            )
        return env

    def start(self, provider: OpenIdProvider | None = None) -> None:
        """Start gunicorn and nginx. With `provider` (started with issuer `provider_url`,
        listening on its loopback `internal_url`), nginx serves it too and the site signs staff
        in through it."""
        self.provider = provider
        with open(self.folder / "gunicorn.log", "wb") as gunicorn_log:  # the child keeps a copy
            self._processes["gunicorn"] = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "gunicorn.conf.py")],
                cwd=PROJECT_ROOT,
                env=self.environment(),
                stdout=gunicorn_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait(self.internal_url + "/readyz", context=None)
        config = self.folder / "nginx.conf"
        config.write_text(
            nginx_config(
                self.folder,
                self.port,
                self.internal_port,
                self.certificate,
                self._key,
                provider=None
                if provider is None
                else (self.provider_port, int(provider.internal_url.rsplit(":", 1)[1])),
            )
        )
        nginx = find_nginx()
        prefix = str(self.folder) + "/"
        # -e: its own error log from the first moment, not the system's /var/log/nginx.
        arguments = [nginx, "-p", prefix, "-e", str(self.folder / "nginx-error.log")]
        check = subprocess.run([*arguments, "-t", "-c", str(config)], capture_output=True)
        if check.returncode != 0:
            raise RuntimeError(check.stderr.decode(errors="replace"))
        self._processes["nginx"] = subprocess.Popen(
            [*arguments, "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait(self.url + "/healthz", context=self.ssl_context())
        if provider is not None:
            self._wait(
                provider.issuer + "/.well-known/openid-configuration", context=self.ssl_context()
            )

    def _wait(self, url: str, context: ssl.SSLContext | None) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            for name, process in self._processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.logs()}")
            try:
                with urllib.request.urlopen(url, timeout=5, context=context) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer in {START_TIMEOUT} s:\n{self.logs()}")
            time.sleep(0.2)

    def stop(self) -> None:
        for process in reversed(self._processes.values()):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)
        self._processes.clear()
        if self._app is not None:
            with self._app.app_context():
                db.session.remove()
                db.engine.dispose()

    def logs(self) -> str:
        parts = []
        for name in ("gunicorn.log", "nginx-error.log"):
            path = self.folder / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-6000:]}")
        return "\n".join(parts)

    def server_errors(self) -> list[str]:
        """Access-log lines of answers with a 5xx status (the log has no addresses)."""
        path = self.folder / "gunicorn.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return [line for line in lines if len(parts := line.split()) > 2 and parts[2][:1] == "5"]

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the site's certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.certificate))

    # --- setting up data -------------------------------------------------------------------

    def settings(self) -> Settings:
        """Settings for an in-process app on the site's database and keys."""
        return Settings(
            env="test",
            secret_key=self.secret_key,
            database_url=self.database_url,
            redis_url=None,
            encryption_keys=(self.encryption_key,),
            hash_key=self.hash_key,
            rate_limits_enabled=False,
        )

    @contextlib.contextmanager
    def app_context(self) -> Iterator[Flask]:
        """An app context on the site's database, with the site's keys: what is written here
        (reports through the real intake path, accounts, rollups) the site reads."""
        if self._app is None:
            self._app = make_lasting_app(self.settings())
        previous = keyring.keys
        keyring.configure(self._app.config["DEFUSE_ENCRYPTION_KEYS"])
        try:
            with self._app.app_context():
                yield self._app
        finally:
            if previous:
                keyring.configure(previous)

    def create_staff(
        self,
        role: str = "trust_leader",
        *,
        email: str | None = None,
        password: str | None = None,
        **profile: object,
    ) -> StaffAccount:
        """A staff account made the way `defuse users create` makes one. `profile` takes the
        other arguments of service.people.create_user (org_unit_id, categories, languages,
        capacity, on_call, name)."""
        email = email or f"{role.replace('_', '-')}-{next(self._numbers)}@site.test"
        password = password or secrets.token_urlsafe(18)
        with self.app_context() as app:
            user = create_user(email=email, role=role, password=password, **profile)  # type: ignore[arg-type]
            secret = None
            if role in app.config["DEFUSE"].totp_required_roles:
                # Enrolled as if its owner had scanned the QR code: the browser then passes the
                # real code step.
                secret = user.totp_secret = pyotp.random_base32()
                user.totp_enabled_at = utcnow()
                db.session.commit()
            return StaffAccount(user.id, user.email, password, user.role, secret)

    def sign_in(self, page, account: StaffAccount) -> None:  # type: ignore[no-untyped-def]
        """Sign in through the real pages as the person would: password, then the code from
        their authenticator app when the account has a second factor."""
        page.goto(self.url + "/login")
        page.get_by_label("Email").fill(account.email)
        page.get_by_label("Password").fill(account.password)
        page.get_by_role("button", name="Sign in").click()
        if account.totp_secret:
            page.get_by_role("heading", name="Enter your code").wait_for()
            page.get_by_label("Code", exact=True).fill(account.code())
            page.get_by_role("button", name="Continue").click()

    def sign_in_with_organisation(self, page, login: str, password: str = "any") -> None:  # type: ignore[no-untyped-def]
        """Sign in as the person `login` of the provider's directory would: "Sign in with your
        organisation" on the site, then the provider's own login and consent pages (its
        development pages, which take any password)."""
        page.goto(self.url + "/login")
        page.get_by_role("link", name="Sign in with your organisation").click()
        page.wait_for_url(self.provider_url + "/**")
        page.get_by_placeholder("Enter any login").fill(login)
        page.get_by_placeholder("and password").fill(password)
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("heading", name="Authorize").wait_for()
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(self.url + "/**")

    def reset(self) -> None:
        """Empty the database and the rate-limit counters, as before the first test."""
        if self.database_url.startswith("postgresql"):
            empty_postgresql(self.database_url)
        else:
            engine = create_engine(self.database_url)
            try:
                _empty_sqlite(engine)
            finally:
                engine.dispose()
        # The limits library clears only its own keys: the Redis is the suite's, and shared.
        storage_from_string(self.redis_url).reset()


def _empty_sqlite(engine) -> None:  # type: ignore[no-untyped-def]
    """Delete every row. The triggers (the append-only audit log, the analytics' week stamps)
    would refuse or record that, so they step aside for it inside the same transaction."""
    with engine.begin() as connection:
        triggers = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _ in triggers:
            connection.execute(text(f'DROP TRIGGER "{name}"'))
        existing = set(inspect(connection).get_table_names())
        for table in reversed(db.metadata.sorted_tables):
            if table.name in existing:
                connection.execute(table.delete())
        for _, sql in triggers:
            connection.execute(text(sql))
