"""Webhook reads, scoped to the caller's merchants."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from catalog.selectors import merchants_for_user
from webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoint_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(
        merchant__in=merchants_for_user(user=user)
    ).select_related("merchant")


def endpoint_get_for_user(
    *, user: AbstractBaseUser | AnonymousUser, endpoint_id: int
) -> WebhookEndpoint | None:
    return endpoint_list_for_user(user=user).filter(pk=endpoint_id).first()


def delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.all()


def delivery_ids_stale(*, pending_before: datetime, limit: int = 1000) -> list[int]:
    """Deliveries pending with no attempt since before this moment (longer than the longest
    back-off): their task was lost; the sweep queues them again."""
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, updated_at__lt=pending_before
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
