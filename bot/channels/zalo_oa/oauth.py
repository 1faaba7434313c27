"""Zalo's OAuth v4 for an OA: the PKCE consent URL, the code exchange and the refresh call.

``POST {oauth_base}/v4/oa/access_token`` with header ``secret_key`` (the *app* secret) and a
form; the answer is ``{"access_token", "refresh_token", "expires_in": "90000"}`` (a string) or
``{"error": <negative>, "error_name", "error_description"}``. −32 is rate limiting; any other
error means the refresh token (or code) is spent or wrong: the admin must authorise again.
These functions only talk HTTP; storing the pair is ``tokens.OATokenManager``'s job.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.channels.zalo_oa.errors import (
    RATE_LIMITED,
    OAReauthorizationNeeded,
    OAServerError,
    OAThrottled,
)

DEFAULT_OAUTH_BASE = "https://oauth.zaloapp.com"
DEFAULT_EXPIRES_IN = 90000  # seconds (~25 h), used when the answer omits it


@dataclass(frozen=True, slots=True)
class IssuedPair:
    access_token: str
    refresh_token: str
    access_expires_at: datetime


@dataclass(frozen=True, slots=True)
class Pkce:
    verifier: str
    challenge: str
    state: str


def new_pkce() -> Pkce:
    """A fresh PKCE (S256) verifier, its challenge and a random state."""
    verifier = secrets.token_urlsafe(48)  # 64 characters, within RFC 7636's 43..128
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return Pkce(verifier=verifier, challenge=challenge, state=secrets.token_urlsafe(16))


def consent_url(
    *, app_id: str, redirect_uri: str, pkce: Pkce, oauth_base: str = DEFAULT_OAUTH_BASE
) -> str:
    """Where the OA's admin grants papi-bot access (the code comes back, valid 10 min)."""
    query = urlencode(
        {
            "app_id": app_id,
            "redirect_uri": redirect_uri,
            "code_challenge": pkce.challenge,
            "state": pkce.state,
        }
    )
    return f"{oauth_base.rstrip('/')}/v4/oa/permission?{query}"


def _pair(body: dict[str, Any], now: datetime) -> IssuedPair:
    access, refresh = body.get("access_token"), body.get("refresh_token")
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise OAServerError("the token answer has no access_token/refresh_token")
    try:
        expires_in = int(str(body.get("expires_in") or DEFAULT_EXPIRES_IN))
    except ValueError:
        expires_in = DEFAULT_EXPIRES_IN
    return IssuedPair(access, refresh, now + timedelta(seconds=expires_in))


async def _token_call(
    http: httpx.AsyncClient, oauth_base: str, app_secret: str, form: dict[str, str], now: datetime
) -> IssuedPair:
    url = f"{oauth_base.rstrip('/')}/v4/oa/access_token"
    try:
        response = await http.post(url, data=form, headers={"secret_key": app_secret})
    except httpx.HTTPError as exc:
        raise OAServerError(f"token request failed: {type(exc).__name__}") from None
    if response.status_code >= 500:
        raise OAServerError(f"token request: HTTP {response.status_code}")
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise OAServerError(f"token request: HTTP {response.status_code}, not JSON") from None
    if not isinstance(body, dict):
        raise OAServerError("token request: unexpected answer")
    code = body.get("error")
    if isinstance(code, int) and code != 0:
        name = str(body.get("error_name") or body.get("message") or "")[:120]
        if code == RATE_LIMITED:
            raise OAThrottled(f"token request rate limited ({name})")
        raise OAReauthorizationNeeded(f"Zalo refused the token request: {code} {name}", code)
    if response.status_code != 200:
        raise OAReauthorizationNeeded(
            f"Zalo refused the token request: HTTP {response.status_code}"
        )
    return _pair(body, now)


async def refresh_pair(
    http: httpx.AsyncClient,
    *,
    app_id: str,
    app_secret: str,
    refresh_token: str,
    now: datetime,
    oauth_base: str = DEFAULT_OAUTH_BASE,
) -> IssuedPair:
    """Spend ``refresh_token`` (single-use) for a new pair."""
    form = {"refresh_token": refresh_token, "app_id": app_id, "grant_type": "refresh_token"}
    return await _token_call(http, oauth_base, app_secret, form, now)


async def exchange_code(
    http: httpx.AsyncClient,
    *,
    app_id: str,
    app_secret: str,
    code: str,
    verifier: str,
    now: datetime,
    oauth_base: str = DEFAULT_OAUTH_BASE,
) -> IssuedPair:
    """The first pair, from the consent code and the PKCE verifier."""
    form = {
        "code": code,
        "app_id": app_id,
        "grant_type": "authorization_code",
        "code_verifier": verifier,
    }
    return await _token_call(http, oauth_base, app_secret, form, now)
