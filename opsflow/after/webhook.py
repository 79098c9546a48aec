"""The survey webhook: recipients POSTed to an external survey tool, signed with HMAC-SHA256.

The receiver checks `X-Opsflow-Signature: sha256=<hex>` = HMAC-SHA256(secret, timestamp + "." + body)
with `X-Opsflow-Timestamp`, comparing in constant time (`verify_signature` does it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import requests

from opsflow.core.config import Secret, mask_url
from opsflow.core.errors import OpsflowError


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """For receivers (and tests): constant-time comparison of the signature header."""
    return hmac.compare_digest(signature(secret, timestamp, body).encode(), header.encode("utf-8", "replace"))


def post_recipients(url: str, secret: Secret, payload: dict[str, Any], timestamp: str, *, timeout: float = 15.0) -> int:
    """POST the payload once; raise OpsflowError (without the secret) when the receiver refuses it."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Opsflow-Timestamp": timestamp,
        "X-Opsflow-Signature": signature(secret.reveal(), timestamp, body),
    }
    shown = mask_url(url)
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise OpsflowError(
            f"the survey webhook {shown} could not be reached ({type(exc).__name__}); it is tried again at the next run"
        ) from None
    if response.status_code >= 300:
        raise OpsflowError(
            f"the survey webhook {shown} answered HTTP {response.status_code}; it is tried again at the next run"
        )
    return response.status_code
