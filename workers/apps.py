from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"

    def ready(self) -> None:
        from django.conf import settings

        from config.health import register_readiness_check
        from workers import receivers  # noqa: F401  (connects the catalogue signals)

        if not settings.CELERY_TASK_ALWAYS_EAGER:
            register_readiness_check("redis", _check_broker)


def _check_broker() -> None:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2
    )
    try:
        client.ping()
    finally:
        client.close()
