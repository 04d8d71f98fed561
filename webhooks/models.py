"""Merchant webhooks: endpoints a merchant registers, and the log of every delivery to them."""

from django.db import models

from catalog.models import Merchant, TimestampedModel


class Event(models.TextChoices):
    IMAGE_INDEXED = "image.indexed", "An image became searchable"
    IMAGE_FAILED = "image.failed", "An image could not be indexed"
    PRODUCT_INDEXED = "product.indexed", "A product's search document was written"


class WebhookEndpoint(TimestampedModel):
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    # The HMAC-SHA256 key of the signature header (webhooks/signing.py); shown once, at creation.
    secret = models.CharField(max_length=64)
    # The events sent to this endpoint; empty: all of them.
    events = models.JSONField(default=list, blank=True)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["merchant_id", "id"]

    def __str__(self) -> str:
        return f"{self.url} ({self.merchant})"

    def wants(self, event: str) -> bool:
        return self.is_active and (not self.events or event in self.events)


class WebhookDelivery(TimestampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40, choices=Event.choices, db_index=True)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} #{self.pk} to {self.endpoint.url}"
