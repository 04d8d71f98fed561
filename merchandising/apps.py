from django.apps import AppConfig


class MerchandisingConfig(AppConfig):
    name = "merchandising"
    verbose_name = "Merchandising"

    def ready(self) -> None:
        from merchandising import engine
        from merchandising.experiments import hooks
        from search.query import rules_step, settings_step

        # Search calls these at its rules step (search/query/rules_step.py).
        rules_step.register_word_expander("merchandising.synonyms", engine.expand_words)
        rules_step.register_ranker("merchandising.rules", engine.rank, wants=engine.wants)
        # Before each search: the shop's settings and the visitor's experiment variant.
        settings_step.register_query_adjuster("merchandising.experiments", hooks.adjust)
