"""The Celery app. Tasks live in workers/; queues and reliability settings live here."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("visual_search")
app.config_from_object("django.conf:settings", namespace="CELERY")


@setup_logging.connect
def _use_django_logging(**kwargs: object) -> None:
    """Workers log through Django's LOGGING (plain or JSON lines, with the request id), not
    Celery's own format: connecting here is how Celery is told to leave logging alone."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@app.on_after_finalize.connect
def _configure(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings
    from kombu import Queue

    # Imported here, once settings are loaded: the metrics module registers its collectors
    # at import, and an import that failed half-way (a settings error) must not repeat it.
    from config.logs import connect_celery
    from config.metrics import connect_celery_metrics

    connect_celery_metrics()
    # The request id travels with each task message (config/logs.py).
    connect_celery()

    sender.conf.update(
        task_default_queue="default",
        task_queues=(Queue("default"), Queue(settings.EMBEDDING_QUEUE)),
        task_routes={
            "workers.tasks.apply_index_changes": {"queue": settings.EMBEDDING_QUEUE},
            "workers.tasks.relay_index_changes": {"queue": settings.EMBEDDING_QUEUE},
        },
        # Points have deterministic ids, so running a task twice is harmless: ack after the
        # work, and give a task back to the queue when its worker dies mid-way.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Redis re-delivers an unacked task after this; it must exceed the hard time limit.
        broker_transport_options={"visibility_timeout": settings.EMBED_TASK_TIME_LIMIT * 2},
        broker_connection_retry_on_startup=True,
        worker_concurrency=settings.CELERY_WORKER_CONCURRENCY,
        worker_max_memory_per_child=settings.CELERY_WORKER_MAX_MEMORY_PER_CHILD or None,
        task_ignore_result=True,
        beat_schedule={
            # The outbox relay: what the fast path missed. A relay still queued when the next
            # is due is dropped, so a busy worker does not find a pile of them.
            "relay-index-changes": {
                "task": "workers.tasks.relay_index_changes",
                "schedule": float(settings.INDEX_RELAY_INTERVAL_SECONDS),
                "options": {"expires": float(settings.INDEX_RELAY_INTERVAL_SECONDS)},
            },
            "sweep-unindexed-images": {
                "task": "workers.tasks.sweep_unindexed",
                "schedule": float(settings.SWEEP_INTERVAL_SECONDS),
            },
            "sweep-feed-work": {
                "task": "workers.tasks.sweep_feed_work",
                "schedule": float(settings.SWEEP_INTERVAL_SECONDS),
            },
            # Search analytics (analytics/tasks.py): partitions ahead and retention, rollup.
            "analytics-maintain-partitions": {
                "task": "analytics.tasks.maintain_partitions",
                "schedule": 3600.0,
            },
            "analytics-rollup": {
                "task": "analytics.tasks.rollup_daily",
                "schedule": float(settings.ANALYTICS_ROLLUP_INTERVAL_SECONDS),
                "options": {"expires": float(settings.ANALYTICS_ROLLUP_INTERVAL_SECONDS)},
            },
            # The click model (merchandising/tasks.py): does nothing unless switched on.
            "merchandising-fit-click-model": {
                "task": "merchandising.tasks.fit_click_model",
                "schedule": float(settings.MERCHANDISING_CLICK_MODEL_INTERVAL_SECONDS),
                "options": {"expires": float(settings.MERCHANDISING_CLICK_MODEL_INTERVAL_SECONDS)},
            },
            "sweep-unenriched-images": {
                "task": "workers.tasks.sweep_unenriched",
                "schedule": float(settings.ENRICHMENT_SWEEP_INTERVAL_SECONDS),
            },
        },
    )


app.autodiscover_tasks(["workers", "analytics", "merchandising"])
