"""Webhook endpoints and their delivery log in the admin, scoped like the catalogue."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from catalog.admin import MerchantScopedAdmin
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint


class EndpointAdminForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["merchant", "url", "events", "description", "is_active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            services.endpoint_url_check(url)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["url"]) from None
        return url


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at", "-id"]
    fields = ["event", "status", "attempts", "response_status", "last_error", "created_at"]
    readonly_fields = ["event", "status", "attempts", "response_status", "last_error", "created_at"]
    show_change_link = True

    def get_queryset(self, request):
        # The latest few; the full log is on the deliveries page.
        queryset = super().get_queryset(request)
        latest = list(queryset.values_list("id", flat=True)[:20])
        return queryset.filter(id__in=latest)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(MerchantScopedAdmin):
    list_display = ["id", "url", "merchant", "events", "is_active", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["merchant"]
    readonly_fields = ["secret", "created_at", "updated_at"]
    fields = [
        "merchant",
        "url",
        "events",
        "description",
        "is_active",
        "secret",
        "created_at",
        "updated_at",
    ]
    inlines = [DeliveryInline]
    form = EndpointAdminForm

    def save_model(self, request, obj, form, change):
        if not obj.secret:
            obj.secret = services.endpoint_secret_new()
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(MerchantScopedAdmin):
    merchant_path = "endpoint__merchant"
    list_display = [
        "id",
        "event",
        "endpoint",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "event"]
    list_select_related = ["endpoint__merchant"]
    search_fields = ["endpoint__url", "last_error"]
    readonly_fields = [
        "endpoint",
        "event",
        "payload",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "delivered_at",
        "created_at",
        "updated_at",
    ]
    fields = list(readonly_fields)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
