"""Webhook signatures: how we sign a delivery, and how a receiver checks it.

Each delivery carries
    X-Webhook-Timestamp: <unix seconds when it was signed>
    X-Webhook-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>" under the secret>

A receiver recomputes the HMAC over the raw body bytes (before any JSON parsing), compares
in constant time, and refuses a timestamp older than a few minutes (a replayed delivery).
``verify`` below is that check; docs/webhooks.md shows it for receivers in other stacks.
"""

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Webhook-Timestamp"
SIGNATURE_HEADER = "X-Webhook-Signature"
VERSION = "v1"


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{VERSION}={digest.hexdigest()}"


def verify(
    *, secret: str, timestamp: str, signature_header: str, body: bytes, tolerance: int = 300
) -> bool:
    """True when the signature is ours over this body and the timestamp is recent."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = signature(secret=secret, timestamp=int(timestamp), body=body)
    # Several signatures may be sent (a secret being rotated): any one may match.
    return any(
        hmac.compare_digest(expected, candidate.strip())
        for candidate in signature_header.split(",")
    )
