from django.apps import AppConfig
from django.conf import settings


class SearchConfig(AppConfig):
    name = "search"

    def ready(self) -> None:
        from catalog.drafting import drafter_register
        from config.health import register_readiness_check, register_readiness_detail
        from config.metrics import register_scrape_time_collector
        from search.enrichment.drafts import drafter
        from search.index import outbox

        register_readiness_check("vector_store", _check_vector_store)
        register_readiness_detail("encoders", _encoder_precision)
        # Index work is recorded in the catalogue change's own transaction (the outbox).
        outbox.connect_catalog_signals()
        register_scrape_time_collector(outbox.COLLECTOR)
        # The catalogue admin's "Draft title/description with AI" asks the VLM through this.
        drafter_register(drafter)
        if settings.WARM_MODELS_AT_START:
            # `make demo`'s runserver: load the models now, not on the first search (gunicorn
            # does the same per worker in deploy/gunicorn.conf.py).
            import threading

            from search.encoding.warmup import warm_models

            threading.Thread(target=warm_models, name="warm-models", daemon=True).start()


def _check_vector_store() -> None:
    from search.vector_index import get_vector_index

    get_vector_index().list_collections()


def _encoder_precision() -> dict:
    """The precision each loaded encoder runs in, with its measured cosine to fp32."""
    from search.encoding.registry import loaded_precisions

    return {tower: report.as_dict() for tower, report in loaded_precisions().items()}
