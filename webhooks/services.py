"""Webhook writes: endpoints, the deliveries an event makes, and one delivery attempt."""

import json
import logging
import secrets
import time
from collections.abc import Iterable
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Merchant
from catalog.remote import FetchRefused, check_url, resolve_checked
from webhooks import signals, signing
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The receiver did not take the delivery (no answer, or not 2xx): try again later."""


# --- Endpoints -----------------------------------------------------------------------------------


def endpoint_create(
    *, merchant: Merchant, url: str, events: Iterable[str] = (), description: str = ""
) -> WebhookEndpoint:
    endpoint_url_check(url)
    wanted = sorted(set(events))
    unknown = [event for event in wanted if event not in Event.values]
    if unknown:
        raise ValidationError({"events": f"Unknown event(s): {', '.join(unknown)}."})
    endpoint = WebhookEndpoint(
        merchant=merchant,
        url=url,
        events=wanted,
        description=description,
        secret=endpoint_secret_new(),
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def endpoint_secret_new() -> str:
    return secrets.token_hex(32)


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def endpoint_url_check(url: str) -> None:
    try:
        check_url(url, allowed_networks=settings.WEBHOOK_ALLOWED_NETWORKS)
    except FetchRefused as exc:
        raise ValidationError({"url": exc.detail}) from None


# --- Events --------------------------------------------------------------------------------------


def any_endpoint_active() -> bool:
    """Cheap guard: no endpoint anywhere, no payloads to build (the usual case in tests and
    small shops, on every indexing batch)."""
    return WebhookEndpoint.objects.filter(is_active=True).exists()


@transaction.atomic
def event_publish(*, event: str, items: Iterable[tuple[int, dict[str, Any]]]) -> list[int]:
    """One delivery per (merchant id, data) item and subscribed endpoint of that merchant;
    sent by the workers after commit. Returns the deliveries' ids."""
    by_merchant: dict[int, list[dict[str, Any]]] = {}
    for merchant_id, data in items:
        by_merchant.setdefault(merchant_id, []).append(data)
    endpoints = WebhookEndpoint.objects.filter(merchant_id__in=list(by_merchant), is_active=True)
    now = timezone.now().isoformat()
    deliveries = [
        WebhookDelivery(
            endpoint=endpoint,
            event=event,
            payload={"event": event, "created_at": now, "data": data},
        )
        for endpoint in endpoints
        if endpoint.wants(event)
        for data in by_merchant[endpoint.merchant_id]
    ]
    created = WebhookDelivery.objects.bulk_create(deliveries)
    ids = [delivery.pk for delivery in created]
    if ids:
        signals.deliveries_created.send(sender=WebhookDelivery, delivery_ids=ids)
    return ids


# --- Delivery ------------------------------------------------------------------------------------


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """POST the delivery, signed, once. Raises DeliveryFailed when the receiver did not take
    it; an endpoint URL that now points inside our network fails it for good."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return delivery
    delivery.attempts += 1
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "visual-search-webhooks",
        "X-Webhook-Id": str(delivery.pk),
        "X-Webhook-Event": delivery.event,
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.signature(
            secret=delivery.endpoint.secret, timestamp=timestamp, body=body
        ),
    }
    try:
        code = _post(delivery.endpoint.url, body, headers)
    except FetchRefused as exc:
        _finish(delivery, WebhookDelivery.Status.FAILED, error=exc.detail)
        return delivery
    except httpx.HTTPError as exc:
        _record_try(delivery, code=None, error=f"{type(exc).__name__}: {exc}")
        raise DeliveryFailed(f"no answer from {delivery.endpoint.url}: {exc}") from exc
    if 200 <= code < 300:
        delivery.response_status = code
        _finish(delivery, WebhookDelivery.Status.DELIVERED, error="")
        return delivery
    _record_try(delivery, code=code, error=f"answered {code}")
    raise DeliveryFailed(f"{delivery.endpoint.url} answered {code}")


def delivery_give_up(*, delivery_id: int, reason: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED,
        last_error=f"gave up: {reason}"[:1000],
        updated_at=timezone.now(),
    )


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    # The URL is checked again at each delivery: its name may resolve elsewhere by now.
    allowed = settings.WEBHOOK_ALLOWED_NETWORKS
    target = resolve_checked(check_url(url, allowed_networks=allowed), allowed_networks=allowed)
    with httpx.Client(
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
    ) as client:
        response = client.post(
            target.url,
            content=body,
            headers={**headers, "Host": target.host_header},
            extensions={"sni_hostname": target.host} if target.url.scheme == "https" else {},
        )
        return response.status_code


def _record_try(delivery: WebhookDelivery, *, code: int | None, error: str) -> None:
    delivery.response_status = code
    delivery.last_error = error[:1000]
    delivery.save(update_fields=["attempts", "response_status", "last_error", "updated_at"])


def _finish(delivery: WebhookDelivery, status: str, *, error: str) -> None:
    delivery.status = status
    delivery.last_error = error[:1000]
    if status == WebhookDelivery.Status.DELIVERED:
        delivery.delivered_at = timezone.now()
    delivery.save(
        update_fields=[
            "status",
            "attempts",
            "response_status",
            "last_error",
            "delivered_at",
            "updated_at",
        ]
    )
