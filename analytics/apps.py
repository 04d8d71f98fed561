from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Search analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Search announces finished searches; analytics listens (search never imports us).
        from analytics import metrics, receivers

        receivers.connect()
        metrics.register()
