"""Index generations in the admin: which model built each collection, which one is live, and
how the switch gate judged it (read-only: generations are made by `manage.py reindex`)."""

from django.contrib import admin

from search.index import generations
from search.models import IndexGeneration
from search.relevance.gate import evaluation_summary


@admin.register(IndexGeneration)
class IndexGenerationAdmin(admin.ModelAdmin):
    list_display = ("collection", "kind", "model_name", "live", "completed_at", "gate")
    list_filter = ("kind",)
    readonly_fields = [field.name for field in IndexGeneration._meta.fields] + ["gate"]

    @admin.display(boolean=True)
    def live(self, generation: IndexGeneration) -> bool:
        alias = (
            generations.images_alias()
            if generation.kind == IndexGeneration.Kind.IMAGES
            else generations.products_alias()
        )
        return generations.resolve(alias) == generation.collection

    @admin.display(description="switch gate")
    def gate(self, generation: IndexGeneration) -> str:
        return evaluation_summary(generation.evaluation)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
