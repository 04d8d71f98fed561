from django.urls import path

from analytics.api import EventsApi

urlpatterns = [
    path("events/", EventsApi.as_view(), name="events"),
]
