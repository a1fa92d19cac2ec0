"""The second factor for local accounts: TOTP (RFC 6238, via pyotp) and one-time recovery
codes.

The TOTP secret is stored encrypted with the app's Fernet keyring (`User.totp_secret` is an
EncryptedText column); recovery codes only as argon2id hashes, like passwords. A code is
accepted once: the time step it belongs to is remembered, so a code seen over a shoulder or
in a proxy log cannot be replayed within its 30 seconds.
"""

from __future__ import annotations

import secrets
import time

import pyotp
import qrcode
import qrcode.image.svg
from markupsafe import Markup

from service import passwords
from service.audit import record
from service.db import RecoveryCode, User, utcnow
from service.extensions import db

ISSUER_NAME = "Defuse"  # shown beside the account in authenticator apps
RECOVERY_CODE_COUNT = 10
# One step either side of now: a phone clock up to 30 s off still works.
VALID_WINDOW = 1


def required_for(user: User, required_roles: tuple[str, ...]) -> bool:
    """Whether a password alone is not enough for this account."""
    return user.has_second_factor or user.role in required_roles


def start_enrolment(user: User) -> str:
    """The secret being enrolled: kept until confirmed, so reloading the page shows the same
    QR code as the one already scanned. The caller commits."""
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
        user.totp_last_step = None
    return user.totp_secret


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER_NAME)


def qr_code_svg(uri: str) -> Markup:
    """The QR code as inline SVG markup: no image service, no script, nothing for the CSP to
    allow. Safe to mark up: qrcode writes only its own path data, never the URI's text."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return Markup(image.to_string(encoding="unicode"))  # noqa: S704 - generated markup only


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _normalise_code(code: str) -> str:
    return "".join(code.split())


def check_code(user: User, code: str, now: float | None = None) -> bool:
    """Accept a current code from the user's authenticator once. The caller commits."""
    code = _normalise_code(code)
    if user.totp_secret is None or len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = time.time() if now is None else now
    current = totp.timecode(int(now))
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False  # already used (or older than one that was)
            user.totp_last_step = step
            return True
    return False


def confirm_enrolment(user: User, code: str) -> list[str] | None:
    """Turn the second factor on if the code matches the secret being enrolled; returns the
    new recovery codes (to show once), or None. The caller commits."""
    if user.has_second_factor or not check_code(user, code):
        return None
    user.totp_enabled_at = utcnow()
    record("staff.second_factor_enrolled", target_user=user.id)
    return issue_recovery_codes(user)


def issue_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with new ones; returns them in clear, once."""
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=passwords.hash_secret(_normalise_recovery(c)))
        for c in codes
    )
    record("staff.recovery_codes_issued", target_user=user.id)
    return codes


def _new_recovery_code() -> str:
    raw = secrets.token_hex(6)  # 48 bits: plenty behind the sign-in rate limit
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def use_recovery_code(user: User, code: str) -> bool:
    """Accept an unused recovery code once. The caller commits."""
    normalised = _normalise_recovery(code)
    if len(normalised) != 12 or not user.has_second_factor:
        return False
    unused = db.session.execute(
        db.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).scalars()
    for row in unused:
        if passwords.verify_secret(row.code_hash, normalised):
            row.used_at = utcnow()
            record("staff.recovery_code_used", target_user=user.id)
            return True
    return False


def recovery_codes_left(user: User) -> int:
    return int(
        db.session.scalar(
            db.select(db.func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def reset(user: User) -> None:
    """Remove the second factor (lost phone and recovery codes): the user enrols again at
    their next sign-in, and every session of theirs ends now. The caller commits."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.session_generation += 1
    record("staff.second_factor_reset", target_user=user.id)
