"""Admin pages for operators: the index generations (which collection is live, which is being
built, which are old, with their model, size and how the switch gate judged them) and the index
status, the same figures as `manage.py index_status`. Read-only: generations are made by
`manage.py reindex`."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from search.index import generations
from search.index.consistency import conclusion, index_status
from search.management.status_report import status_lines
from search.models import IndexGeneration
from search.relevance.gate import evaluation_summary
from search.vector_index import get_vector_index
from search.vector_index.base import SearchFilter, VectorStoreUnavailable


@admin.register(IndexGeneration)
class IndexGenerationAdmin(admin.ModelAdmin):
    list_display = [
        "collection",
        "kind",
        "state",
        "model_name",
        "model_revision",
        "dim",
        "searchable_points",
        "created_at",
        "completed_at",
        "gate",
    ]
    list_filter = ["kind"]
    readonly_fields = [
        "kind",
        "collection",
        "model_name",
        "model_revision",
        "model_key",
        "dim",
        "completed_at",
        "created_at",
        "updated_at",
        "gate",
    ]
    change_list_template = "admin/search/indexgeneration/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # Which collection each alias points at, read once per page.
        index = get_vector_index()
        self._live = {
            generations.resolve(generations.images_alias(), index, fresh=True),
            generations.resolve(generations.products_alias(), index, fresh=True),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description="state")
    def state(self, generation: IndexGeneration) -> str:
        if generation.collection in getattr(self, "_live", set()):
            return "live"
        return "building" if generation.completed_at is None else "old"

    @admin.display(description="searchable points")
    def searchable_points(self, generation: IndexGeneration) -> str:
        index = get_vector_index()
        try:
            if not index.collection_exists(generation.collection):
                return "(no collection)"
            return str(index.count(generation.collection, SearchFilter()))
        except VectorStoreUnavailable:
            return "(vector store unavailable)"

    @admin.display(description="switch gate")
    def gate(self, generation: IndexGeneration) -> str:
        return evaluation_summary(generation.evaluation)

    def get_urls(self):
        return [
            path(
                "status/",
                self.admin_site.admin_view(self.status_view),
                name="search_index_status",
            ),
            *super().get_urls(),
        ]

    def status_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        status = index_status()
        context = {
            **self.admin_site.each_context(request),
            "title": "Index status",
            "lines": status_lines(status),
            "conclusion": conclusion(status),
            "consistent": status.consistent,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/search/index_status.html", context)
