"""Entra ID's state: the tokens the simulator issues and how an ARM request's bearer token is checked.

Tokens are HS256 JWTs signed with ``sim.token_key`` (per state directory, so tokens survive a restart with
``--state``); the routes that hand them out are in ``routes.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

from ...core.errors import ArmError

IDENTITY_HEADER_VALUE = "azsim-identity-header"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(sim, tenant, client_id, audience):
    now = int(time.time())
    lifetime = int(sim.settings["auth"]["token_lifetime_s"])
    header = {"typ": "JWT", "alg": "HS256", "kid": "azsim"}
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant}/",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "appid": client_id,
        "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"azsim:{client_id}")),
        "tid": tenant,
        "sub": client_id,
        "ver": "1.0",
    }
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    signature = hmac.new(sim.token_key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature), lifetime


def authenticate(sim, req):
    """Check the bearer token of an ARM request; 401 as ARM answers it otherwise."""
    value = req.headers.get("Authorization", "")
    if not value.lower().startswith("bearer "):
        raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                       headers={"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                                                   'error="invalid_token", error_description="The authentication failed '
                                                   'because of missing \'Authorization\' header."'})
    token = value.split(" ", 1)[1].strip()
    try:
        signing_input, signature = token.rsplit(".", 1)
        expected = hmac.new(sim.token_key.encode(), signing_input.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            raise ValueError("signature")
        claims = json.loads(_unb64(signing_input.split(".")[1]))
    except (ValueError, IndexError):
        raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.") from None
    if claims.get("exp", 0) < time.time():
        raise ArmError(401, "ExpiredAuthenticationToken",
                       "The access token expiry UTC time is earlier than current UTC time.")
    return claims
