"""Admin pages for operators: the index generations (which collection is live, which is being
built, which are old, with their model, size and how the switch gate judged them) and the index
status, the same figures as `manage.py index_status`. Read-only: generations are made by
`manage.py reindex`. And the fine-tuning runs, with their progress as they train (started by
`manage.py finetune_clip`, here or on a GPU worker)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join

from search.index import generations
from search.index.consistency import conclusion, index_status
from search.management.status_report import status_lines
from search.models import FinetuneRun, IndexGeneration
from search.relevance.gate import evaluation_summary
from search.relevance.runs import finetune_run_describe
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


@admin.register(FinetuneRun)
class FinetuneRunAdmin(admin.ModelAdmin):
    """Read-only: a run is started by `manage.py finetune_clip` (on a CUDA device it goes to
    the GPU workers' queue) and writes its own progress here."""

    list_display = ["id", "status", "progress", "model_name", "output", "queue", "created_at"]
    list_filter = ["status"]
    _FIELDS = (
        "status",
        "progress",
        "model_name",
        "model_revision",
        "output",
        "revision",
        "pairs_file",
        "merchant_slug",
        "notes",
        "queue",
        "device",
        "precision",
        "config",
        "epochs",
        "error",
        "created_at",
        "started_at",
        "finished_at",
    )
    fields = _FIELDS
    readonly_fields = _FIELDS

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress(self, run: FinetuneRun) -> str:
        return finetune_run_describe(run)

    @admin.display(description="held-out evaluation by epoch")
    def epochs(self, run: FinetuneRun) -> str:
        if not run.history:
            return "-"
        tasks = sorted({task for record in run.history for task in record["metrics"]})
        header = format_html_join("", "<th>{} recall@10</th>", ((task,) for task in tasks))
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td>{}</tr>",
            (
                (
                    record["epoch"],
                    "-" if record["loss"] is None else f"{record['loss']:.4f}",
                    f"{record['score']:.4f}",
                    format_html_join(
                        "",
                        "<td>{}</td>",
                        (
                            (_figure(record["metrics"].get(task, {}).get("recall@10")),)
                            for task in tasks
                        ),
                    ),
                )
                for record in run.history
            ),
        )
        return format_html(
            "<table><tr><th>epoch</th><th>loss</th><th>score</th>{}</tr>{}</table>", header, rows
        )


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
