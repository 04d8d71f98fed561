from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project's own start-up wiring: system checks, the failed-login counters and, when
    an OTLP endpoint is set, tracing (before any request handler loads the middleware)."""

    name = "config"
    label = "project"
    verbose_name = "Project"

    def ready(self) -> None:
        from config import checks, login_throttle  # noqa: F401  (registers on import)
        from config.tracing import start_tracing

        start_tracing()
