from django.urls import path

from webhooks import apis

urlpatterns = [
    path(
        "merchant/webhooks/",
        apis.WebhookEndpointListCreateApi.as_view(),
        name="merchant-webhooks",
    ),
    path(
        "merchant/webhooks/<int:endpoint_id>/",
        apis.WebhookEndpointDetailApi.as_view(),
        name="merchant-webhook",
    ),
    path(
        "merchant/webhooks/<int:endpoint_id>/deliveries/",
        apis.WebhookDeliveryListApi.as_view(),
        name="merchant-webhook-deliveries",
    ),
]
