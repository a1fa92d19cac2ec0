"""Abuse limits: one budget per client for each action, whichever way the client comes in.

Each limit is a Flask-Limiter *shared* limit: every route it decorates counts in one bucket,
named by its scope, so the report form and `POST /api/v1/reports` draw on the same allowance
(with separate buckets one client got twice the documented limit). The client is the keyed
daily hash of its address (`service.privacy.ratelimit`); behind a reverse proxy that address
is the real client's only when DEFUSE_TRUSTED_PROXIES says how many proxies to believe.
"""

from __future__ import annotations

from flask import Response, current_app, session

from service.extensions import limiter
from service.privacy import keyed_hash


def _reports_limit() -> str:
    return current_app.config["DEFUSE"].rate_limit_reports


def _receipts_limit() -> str:
    return current_app.config["DEFUSE"].rate_limit_receipts


def _sign_in_limit() -> str:
    return current_app.config["DEFUSE"].rate_limit_login


def _receipt_not_found(response: Response) -> bool:
    # Only wrong codes use up the allowance: a reporter reading their own thread never does.
    return response.status_code == 404


def _failed_attempt(response: Response) -> bool:
    # Only failures use up an allowance: signing in many times a day must never lock anyone.
    return response.status_code == 401


def _second_factor_account_key() -> str:
    # The account is known from the password step (or the session): codes are limited per
    # account as passwords are, so many addresses cannot share out the guessing.
    pending = session.get("pending")
    account = pending.get("uid") if isinstance(pending, dict) else session.get("uid")
    return keyed_hash(str(account or ""), "second-factor-throttle")


#: Submitting a report, by the form or the API.
report_submission = limiter.shared_limit(_reports_limit, scope="report-submission")

#: Looking up a receipt code (follow-up page, reply, API status and messages).
receipt_lookup = limiter.shared_limit(
    _receipts_limit, scope="receipt-lookup", deduct_when=_receipt_not_found
)
#: The same bucket, for a page whose GET only shows the form that asks for the code.
receipt_lookup_on_post = limiter.shared_limit(
    _receipts_limit, scope="receipt-lookup", methods=["POST"], deduct_when=_receipt_not_found
)

#: Wrong passwords from one client. Per account there is no hard limit (it let anyone lock a
#: colleague out) but growing delays instead: service/sign_in_throttle.py.
sign_in = limiter.shared_limit(
    _sign_in_limit, scope="sign-in", methods=["POST"], deduct_when=_failed_attempt
)
#: Second-factor codes (and recovery codes) from one client, and for one account from
#: anywhere: a budget of their own, so the password step does not use it up.
second_factor_codes = limiter.shared_limit(
    _sign_in_limit, scope="second-factor", methods=["POST"], deduct_when=_failed_attempt
)
second_factor_codes_per_account = limiter.shared_limit(
    _sign_in_limit,
    scope="second-factor-account",
    methods=["POST"],
    key_func=_second_factor_account_key,
)
