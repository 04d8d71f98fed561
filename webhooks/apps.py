from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from webhooks import receivers  # noqa: F401  (listens to the catalogue's indexing news)
