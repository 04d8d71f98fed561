from django.urls import path

from config.metrics import metrics_view

urlpatterns = [
    path("metrics", metrics_view, name="metrics"),
]
