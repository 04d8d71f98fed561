"""Admin for merchandising rules, scoped like the catalogue: merchant staff see and edit the
rules of their merchants and may only name their own products; shop staff see all and may
write shop-wide rules. The preview page shows a query's results without and with the rules."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path

from catalog import selectors as catalog_selectors
from merchandising import preview, selectors, services
from merchandising.models import ClickBoost, ClickModelRun, Rule


class RuleAdminForm(forms.ModelForm):
    user = None  # set by RuleAdmin.get_form: the scope check needs who is writing

    class Meta:
        model = Rule
        fields = list(services.RULE_FIELDS)

    def clean(self):
        cleaned = super().clean() or {}
        try:
            services.rule_check_scope(user=self.user, rule=Rule(merchant=cleaned.get("merchant")))
        except ValidationError as exc:
            self.add_error("merchant", exc.message_dict["merchant"])
        return cleaned


def _is_member(request) -> bool:
    return catalog_selectors.merchants_for_user(user=request.user).exists()


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleAdminForm
    change_list_template = "admin/merchandising/rule/change_list.html"
    list_display = ["name", "kind", "merchant", "enabled", "when", "starts_at", "ends_at"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "query", "terms"]
    list_select_related = ["merchant", "product"]
    # A search box over the merchant-scoped product admin, not one <option> per product.
    autocomplete_fields = ["product"]
    # Each section names the kinds it is for (rule_form.js shows only those of the chosen kind).
    fieldsets = [
        (None, {"fields": ["name", "kind", "merchant", "enabled", ("starts_at", "ends_at")]}),
        (
            "When (pin, boost, bury, hide, click model)",
            {
                "fields": ["match", "query", "filter_category"],
                "classes": ["for-pin", "for-boost", "for-bury", "for-hide", "for-click_model"],
            },
        ),
        (
            "Synonyms",
            {"fields": ["synonym_type", "terms", "synonyms"], "classes": ["for-synonym"]},
        ),
        (
            "Pin or hide",
            {"fields": ["product", "position"], "classes": ["for-pin", "for-hide"]},
        ),
        (
            "Boost or bury",
            {
                "fields": ["attribute", "value", ("price_min", "price_max")],
                "classes": ["for-boost", "for-bury"],
            },
        ),
        (
            "How much (boost, bury, click model)",
            {
                "fields": ["weight"],
                "classes": ["for-boost", "for-bury", "for-click_model"],
                "description": (
                    "Boost and bury: first places of one search leg added or taken away. "
                    "Click model: the most a product the click model learned a boost for "
                    "may gain (needs MERCHANDISING_CLICK_MODEL on and a fit: "
                    "manage.py fit_click_model)."
                ),
            },
        ),
    ]

    class Media:
        js = ["merchandising/rule_form.js"]

    # Merchant staff manage their merchants' rules without a model permission of their own:
    # membership is the permission, as it is for the merchant API.
    def has_module_permission(self, request):
        return super().has_module_permission(request) or _is_member(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or _is_member(request)

    def has_add_permission(self, request):
        return super().has_add_permission(request) or _is_member(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or _is_member(request)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) or _is_member(request)

    def get_queryset(self, request):
        return selectors.rule_list_for_user(user=request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user  # type: ignore[attr-defined]  # RuleAdminForm.user
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "merchant":
            kwargs["queryset"] = catalog_selectors.merchants_for_user(user=request.user)
        if db_field.name == "product":
            kwargs["queryset"] = catalog_selectors.product_list_for_user(
                user=request.user
            ).select_related("merchant")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="When")
    def when(self, rule: Rule) -> str:
        if rule.kind == Rule.Kind.SYNONYM:
            return rule.terms
        parts = []
        if rule.query:
            parts.append(f"“{rule.query}”" + (" (words)" if rule.match == "words" else ""))
        elif rule.match == "any":
            parts.append("any query")
        if rule.filter_category:
            parts.append(f"in {rule.filter_category}")
        return ", ".join(parts)

    def delete_model(self, request, obj):
        services.rule_delete(user=request.user, rule=obj)

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            services.rule_delete(user=request.user, rule=rule)

    def get_urls(self):
        return [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="merchandising_rule_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request):
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = preview.PreviewForm(request.GET or None, user=request.user)
        comparison = preview.compare(form) if form.is_valid() else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Preview rules",
            "form": form,
            "comparison": comparison,
        }
        return TemplateResponse(request, "admin/merchandising/rule/preview.html", context)


class _ReadOnly(admin.ModelAdmin):
    """What the click model learned: shop staff read it (a fit writes it, nobody edits it)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_module_permission(self, request):
        return services.can_manage_shop_wide(request.user)

    def has_view_permission(self, request, obj=None):
        return services.can_manage_shop_wide(request.user)


@admin.register(ClickModelRun)
class ClickModelRunAdmin(_ReadOnly):
    list_display = ["created_at", "since", "until", "searches", "clicks", "queries", "boosts"]
    readonly_fields = [
        "created_at",
        "since",
        "until",
        "searches",
        "impressions",
        "clicks",
        "queries",
        "boosts",
        "iterations",
        "examination",
    ]


@admin.register(ClickBoost)
class ClickBoostAdmin(_ReadOnly):
    list_display = ["words", "product", "boost", "lift", "attractiveness", "clicks", "impressions"]
    list_select_related = ["product"]
    search_fields = ["words"]
    readonly_fields = [
        "words",
        "product",
        "boost",
        "lift",
        "attractiveness",
        "clicks",
        "impressions",
    ]


# Experiments and search settings: their own admin module, registered by importing it.
from merchandising.experiments import admin as experiments_admin  # noqa: E402, F401
