"""Password guessing: failed logins are counted per username and per client address.

Both the API token endpoint and the admin login go through here. A failure is counted when
Django's ``authenticate()`` says so (the ``user_login_failed`` signal, which both send), so
a request that names no username or no password costs nothing. Once a username or an address
has LOGIN_FAILURES_PER_USERNAME / LOGIN_FAILURES_PER_ADDRESS failures within
LOGIN_LOCKOUT_SECONDS, further logins for it answer 429 with ``Retry-After`` until the window
that started at its first failure has passed, the right password included: otherwise a guess
that lands would still be told apart from one that does not.

A success clears the username's count (someone who mistyped twice and then got in starts
afresh), never the address's: an attacker holding one account must not reset the counter
he uses to guess others'.

Counters live in the default cache, which production shares between web processes (Redis).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from config.clients import client_address

_PREFIX = "login-failures"


def _username_key(username: str) -> str:
    # Hashed: a username is personal data, and cache keys may not hold every character.
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return f"{_PREFIX}:user:{digest}"


def _address_key(request: Any) -> str:
    return f"{_PREFIX}:addr:{client_address(request)}"


def _counters(request: Any, username: str | None) -> list[tuple[str, int]]:
    counters = [(_address_key(request), settings.LOGIN_FAILURES_PER_ADDRESS)]
    if username:
        counters.append((_username_key(username), settings.LOGIN_FAILURES_PER_USERNAME))
    return counters


def locked_for(request: Any, username: str | None) -> int | None:
    """Seconds until this username and address may try again; None when they may now."""
    now = time.time()
    waits = []
    for key, limit in _counters(request, username):
        count = cache.get(key)
        if count is not None and count >= limit:
            until = cache.get(f"{key}:until") or now + 1
            waits.append(max(1, math.ceil(until - now)))
    return max(waits) if waits else None


def record_failure(request: Any, username: str | None) -> None:
    window = settings.LOGIN_LOCKOUT_SECONDS
    for key, _limit in _counters(request, username):
        # add() only sets a missing key: the window runs from the first failure, and incr()
        # is atomic in Redis, so concurrent guesses are all counted.
        cache.add(f"{key}:until", time.time() + window, window)
        cache.add(key, 0, window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr(): this failure starts a window
            cache.set(key, 1, window)


def record_success(username: str) -> None:
    key = _username_key(username)
    cache.delete_many([key, f"{key}:until"])


@receiver(user_login_failed, dispatch_uid="config.login_throttle.failed")
def _on_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    if request is not None:
        record_failure(request, credentials.get("username"))


@receiver(user_logged_in, dispatch_uid="config.login_throttle.succeeded")
def _on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_success(user.get_username())


def locked_message(wait: int) -> str:
    minutes = max(1, math.ceil(wait / 60))
    return (
        f"Too many failed logins for this account or from this address; "
        f"try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


def admin_login_guard(
    login_view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Wrap the admin's login view: a locked username or address gets a 429 page."""

    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            wait = locked_for(request, request.POST.get("username"))
            if wait is not None:
                body = format_html(
                    "<!doctype html><title>Too many login attempts</title>"
                    "<h1>Too many login attempts</h1><p>{}</p>",
                    locked_message(wait),
                )
                response = HttpResponse(body, status=429)
                response["Retry-After"] = str(wait)
                return response
        return login_view(request, *args, **kwargs)

    return guarded
