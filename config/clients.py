"""Who is asking: the client's address as the trusted proxies in front of us report it.

Throttles and the login lockout count per address, so the address must be one a client
cannot choose. Each proxy appends the address it received the connection from to
X-Forwarded-For; only the last TRUSTED_PROXY_COUNT entries were written by our own proxies,
and anything before them is whatever the client sent. With no proxy (the default, 0) the
socket's address is the only one to believe.
"""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR") or ""
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if not forwarded:
        return remote
    # The entry our outermost proxy wrote: the address that connected to it. Fewer entries
    # than proxies means a hop did not append; the first entry is then the best we have.
    return forwarded[-min(trusted, len(forwarded))]
