"""Webhook reads, scoped to the caller's merchants."""

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
