from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"

    def ready(self) -> None:
        from config.health import register_readiness_check

        register_readiness_check("vector_store", _check_vector_store)


def _check_vector_store() -> None:
    from search.vector_index import get_vector_index

    get_vector_index().list_collections()
