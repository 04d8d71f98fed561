from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project's own start-up wiring: system checks and the failed-login counters."""

    name = "config"
    label = "project"
    verbose_name = "Project"

    def ready(self) -> None:
        from config import checks, login_throttle  # noqa: F401  (registers on import)
