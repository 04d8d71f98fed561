"""Admin for experiments and the shop's search settings (shop staff only).

An experiment is written as a draft with its variants inline (the first is the control); its
results page shows the table and the verdict, and starts or ends it through the services. A
running or ended experiment's variants are read-only: changing a variant mid-test would mix
two rankings in one arm's figures.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from merchandising.experiments import hooks, presentation, selectors, services
from merchandising.experiments.models import Experiment, SearchSettings, Variant
from merchandising.experiments.stats import METRICS, MIN_SEARCHES
from merchandising.experiments.validation import settings_errors, variants_errors


class _ShopStaffOnly:
    """Experiments change every merchant's rankings: shop staff only, whatever model
    permissions a merchant's staff account was given."""

    def has_module_permission(self, request):
        return services.can_manage_experiments(request.user)

    def has_view_permission(self, request, obj=None):
        return services.can_manage_experiments(request.user)

    def has_add_permission(self, request, *args):
        return services.can_manage_experiments(request.user)

    def has_change_permission(self, request, obj=None):
        return services.can_manage_experiments(request.user)

    def has_delete_permission(self, request, obj=None):
        return services.can_manage_experiments(request.user)


class VariantFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
        rows = [
            Variant(**{k: v for k, v in form.cleaned_data.items() if k in _FIELDS}) for form in kept
        ]
        for form, row in zip(kept, rows, strict=True):
            for name, message in settings_errors(row).items():
                form.add_error(name, message)
        errors = variants_errors(rows)
        if errors:
            raise ValidationError(errors["variants"])


_FIELDS = ("name", "share", *services.SETTINGS_FIELDS)


class VariantInline(_ShopStaffOnly, admin.StackedInline):
    model = Variant
    formset = VariantFormSet
    extra = 0
    min_num = 2
    fields = [
        ("name", "share"),
        ("weight_image", "weight_text", "weight_keywords"),
        ("rrf_k", "rerank", "rules"),
        "image_collection",
    ]
    verbose_name = "variant"
    verbose_name_plural = "variants: the first is the control; shares add up to 100"

    def has_add_permission(self, request, obj=None):
        return _is_draft(obj) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return _is_draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _is_draft(obj) and super().has_delete_permission(request, obj)


def _is_draft(experiment) -> bool:
    return experiment is None or experiment.status == Experiment.Status.DRAFT


@admin.register(Experiment)
class ExperimentAdmin(_ShopStaffOnly, admin.ModelAdmin):
    inlines = [VariantInline]
    list_display = ["name", "status_badge", "arms", "started_at", "winner", "results_link"]
    list_filter = ["status"]
    search_fields = ["name"]
    list_select_related = ["winner"]
    fields = ["name", "description", "metric", "status", "started_at", "ended_at", "winner"]
    readonly_fields = ["status", "started_at", "ended_at", "winner"]

    def get_queryset(self, request):
        return selectors.experiment_list_for_user(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        if _is_draft(obj):
            return self.readonly_fields
        return [*self.readonly_fields, "metric"]

    @admin.display(description="Status", ordering="status")
    def status_badge(self, experiment: Experiment) -> str:
        return format_html(
            '<span class="xp-status xp-{}">{}</span>',
            experiment.status,
            experiment.get_status_display(),
        )

    @admin.display(description="Variants")
    def arms(self, experiment: Experiment) -> str:
        return " / ".join(f"{v.name} {v.share}%" for v in selectors.variants_of(experiment))

    @admin.display(description="Results")
    def results_link(self, experiment: Experiment) -> str:
        url = reverse("admin:merchandising_experiment_results", args=[experiment.pk])
        return format_html('<a href="{}">Results</a>', url)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        # The control is the first variant as listed: positions follow the form's order.
        for position, variant in enumerate(
            sorted(form.instance.variants.all(), key=lambda v: (v.position, v.pk))
        ):
            if variant.position != position:
                variant.position = position
                variant.save(update_fields=["position", "updated_at"])

    def response_change(self, request, obj):
        if "_results" in request.POST:
            return HttpResponseRedirect(
                reverse("admin:merchandising_experiment_results", args=[obj.pk])
            )
        return super().response_change(request, obj)

    def get_urls(self):
        return [
            path(
                "<int:experiment_id>/results/",
                self.admin_site.admin_view(self.results_view),
                name="merchandising_experiment_results",
            ),
            *super().get_urls(),
        ]

    def results_view(self, request, experiment_id: int):
        if not services.can_manage_experiments(request.user):
            raise PermissionDenied
        experiment = get_object_or_404(self.get_queryset(request), pk=experiment_id)
        if request.method == "POST":
            return self._act(request, experiment)
        variants = selectors.variants_of(experiment)
        results = selectors.experiment_results(experiment=experiment)
        summaries = {v.name: f"{v.share}% · {v.settings_summary()}" for v in variants}
        table = presentation.rows(results, summaries) if results is not None else []
        headline = presentation.headline(results, experiment.status) if results else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Experiment: {experiment.name}",
            "experiment": experiment,
            "variants": variants,
            "results": results,
            "rows": table,
            "headline": headline,
            "metrics": METRICS,
            "deciding": results.verdict.metric if results else experiment.metric,
            "min_searches": MIN_SEARCHES,
        }
        return TemplateResponse(request, "admin/merchandising/experiment/results.html", context)

    def _act(self, request, experiment: Experiment):
        here = reverse("admin:merchandising_experiment_results", args=[experiment.pk])
        action = request.POST.get("action")
        try:
            if action == "start":
                services.experiment_start(user=request.user, experiment=experiment)
                messages.success(request, "Started: visitors are now split between the variants.")
            elif action == "end":
                name = request.POST.get("winner") or ""
                winner = next(
                    (v for v in selectors.variants_of(experiment) if v.name == name), None
                )
                apply = request.POST.get("apply") == "on"
                services.experiment_end(
                    user=request.user, experiment=experiment, winner=winner, apply=apply
                )
                if winner is not None and apply:
                    messages.success(
                        request, f"Ended: {winner.name}'s settings are now the shop's."
                    )
                else:
                    messages.success(request, "Ended; the shop's search settings are unchanged.")
            else:
                messages.error(request, "Unknown action.")
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return HttpResponseRedirect(here)


class SearchSettingsForm(forms.ModelForm):
    class Meta:
        model = SearchSettings
        fields = list(services.SETTINGS_FIELDS)

    def clean(self):
        cleaned = super().clean() or {}
        values = SearchSettings(**{name: cleaned.get(name) for name in services.SETTINGS_FIELDS})
        for name, message in settings_errors(values).items():
            if name in self.fields:
                self.add_error(name, message)
        return cleaned


@admin.register(SearchSettings)
class SearchSettingsAdmin(_ShopStaffOnly, admin.ModelAdmin):
    """One row: the list opens it."""

    form = SearchSettingsForm
    fieldsets = [
        ("Fusion", {"fields": [("weight_image", "weight_text", "weight_keywords"), "rrf_k"]}),
        ("Steps", {"fields": ["rerank", "rules", "image_collection"]}),
    ]

    def has_add_permission(self, request, *args):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        shop = services.search_settings_get()
        return HttpResponseRedirect(
            reverse("admin:merchandising_searchsettings_change", args=[shop.pk])
        )

    def save_model(self, request, obj, form, change):
        services.search_settings_update(
            user=request.user, data={name: form.cleaned_data[name] for name in form.changed_data}
        )
        hooks.forget()
