"""Admin pages for operators: the index generations (which collection is live, which is being
built, which are old, with their model, size and how the switch gate judged them) and the index
status, the same figures as `manage.py index_status`. Read-only: generations are made by
`manage.py reindex`. And the fine-tuning runs, with their progress as they train (started by
`manage.py finetune_clip`, here or on a GPU worker).

And for shop staff: the attribute vocabularies of the zero-shot attributes, per category, with
their thresholds (search/enrichment/vocabularies.py)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from search.enrichment import vocabularies
from search.enrichment.attributes import file_vocabularies
from search.index import generations
from search.index.consistency import conclusion, index_status
from search.management.status_report import status_lines
from search.models import (
    EnrichmentAttribute,
    EnrichmentAttributeValue,
    FinetuneRun,
    IndexGeneration,
)
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


class ValuesFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        # The parent form's values are on the instance by now (the admin builds the formsets
        # on the unsaved object).
        attribute_enabled = self.instance.enabled
        kept = {
            str(form.cleaned_data.get("value", "")).strip().lower()
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("enabled")
            and str(form.cleaned_data.get("value", "")).strip()
        }
        if attribute_enabled and len(kept) < 2:
            # One value's share among the values is always 1: the model would judge nothing.
            raise ValidationError(
                "An enabled attribute needs at least two enabled values to choose between."
            )


class EnrichmentAttributeValueInline(admin.TabularInline):
    model = EnrichmentAttributeValue
    formset = ValuesFormSet
    fields = ["value", "enabled"]
    extra = 2


@admin.register(EnrichmentAttribute)
class EnrichmentAttributeAdmin(admin.ModelAdmin):
    """Shop staff add, edit and switch off the attributes derived per category; a row here
    replaces the data file's attribute of the same name for its category."""

    list_display = ["name", "category_label", "enabled", "threshold", "value_list", "calibrated"]
    list_display_links = ["name"]
    list_filter = ["enabled", "category"]
    list_editable = ["enabled", "threshold"]
    search_fields = ["name", "category", "values__value"]
    fields = ["category", "name", "enabled", "threshold", "calibrated"]
    readonly_fields = ["calibrated"]
    inlines = [EnrichmentAttributeValueInline]
    change_list_template = "admin/search/enrichmentattribute/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("values")

    @admin.display(description="category", ordering="category")
    def category_label(self, attribute: EnrichmentAttribute) -> str:
        return attribute.category or "(every category)"

    @admin.display(description="values")
    def value_list(self, attribute: EnrichmentAttribute) -> str:
        values = list(attribute.values.all())
        on = [v.value for v in values if v.enabled]
        off = [v.value for v in values if not v.enabled]
        text = ", ".join(on) or "(none)"
        return f"{text} (off: {', '.join(off)})" if off else text

    @admin.display(description="calibration")
    def calibrated(self, attribute: EnrichmentAttribute) -> str:
        found = attribute.calibration
        if not found:
            return "not calibrated (manage.py calibrate_attributes)"
        return format_html(
            "{} on {} products: precision {}, recall {}",
            found.get("goal", "?"),
            found.get("samples", "?"),
            found.get("precision", "?"),
            found.get("recall", "?"),
        )

    def get_urls(self):
        return [
            path(
                "import-defaults/",
                self.admin_site.admin_view(self.import_defaults_view),
                name="search_enrichmentattribute_import_defaults",
            ),
            *super().get_urls(),
        ]

    def import_defaults_view(self, request):
        if request.method != "POST" or not self.has_add_permission(request):
            raise PermissionDenied
        added = vocabularies.defaults_import()
        self.message_user(
            request,
            f"{added} attribute(s) copied from the data file; edit them here."
            if added
            else "Every attribute of the data file is here already.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:search_enrichmentattribute_changelist"))

    def changelist_view(self, request, extra_context=None):
        overridden = set(EnrichmentAttribute.objects.values_list("category", "name"))
        from_file = file_vocabularies(vocabularies.attributes_file())
        defaults = [
            (category, name, spec)
            for category, own in [("", from_file.default), *from_file.categories.items()]
            for name, spec in own.items()
            if name != "noun" and (category, name) not in overridden
        ]
        extra_context = {**(extra_context or {}), "file_attributes": defaults}
        return super().changelist_view(request, extra_context)


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
