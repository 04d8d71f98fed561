"""System checks: settings that must not reach production as they are.

They run with every management command that checks (migrate, the deploy's migrate job or
one-shot, ``check --deploy``), so a deployment with such a setting stops before it serves.
"""

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def metrics_need_a_token(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.PRODUCTION and settings.METRICS_ENABLED and not settings.METRICS_TOKEN:
        return [
            checks.Error(
                "GET /metrics would be public: METRICS_TOKEN is empty.",
                hint="Set METRICS_TOKEN (and the same bearer token in the Prometheus scrape "
                "config), or METRICS_ENABLED=false.",
                id="project.E001",
            )
        ]
    return []
