"""Merchant admin: products with their images, scoped to the staff user's merchants."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from catalog import drafting, selectors, services
from catalog.intake import ImageRejected, read_upload
from catalog.models import Merchant, MerchantMembership, Product, ProductImage
from config.validation import MESSAGE as CONTROL_CHARACTERS
from config.validation import control_character_path


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"accept": "image/jpeg,image/png,image/webp", "multiple": True})

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleImageField, self).clean(f, initial) for f in files]


class ProductAdminForm(forms.ModelForm):
    new_images = MultipleImageField(
        label="Add images",
        help_text="Choose one or several JPEG, PNG or WebP files; each is checked and indexed.",
    )

    class Meta:
        model = Product
        fields = ["merchant", *services.PRODUCT_EDITABLE_FIELDS]

    def clean(self):
        cleaned = super().clean() or {}
        for name in ("sku", "title", "description", "brand", "category", "attributes"):
            found = control_character_path(cleaned.get(name))
            if found is not None:  # PostgreSQL refuses NUL in JSON: a 500 before this check
                self.add_error(
                    name, f"{found}: {CONTROL_CHARACTERS}" if found else CONTROL_CHARACTERS
                )
        return cleaned

    def clean_new_images(self):
        """Read every upload now so that a refusal is a form error, before anything is saved."""
        uploads = self.cleaned_data.get("new_images") or []
        contents = []
        errors = []
        for upload in uploads:
            try:
                contents.append((upload.name, read_upload(upload)))
            except ImageRejected as exc:
                errors.append(f"{upload.name}: {exc.detail}")
        if errors:
            raise ValidationError(errors)
        return contents


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = [
        "preview",
        "position",
        "status",
        "failure_reason",
        "width",
        "height",
        "model_revision",
        "indexed_at",
        "colour_chips",
        "duplicate_link",
    ]
    readonly_fields = [
        "preview",
        "colour_chips",
        "duplicate_link",
        "status",
        "failure_reason",
        "width",
        "height",
        "model_revision",
        "indexed_at",
    ]
    ordering = ["position", "id"]

    @admin.display(description="Image")
    def preview(self, image: ProductImage) -> str:
        if not image.pk:
            return "-"
        url = image.thumbnail.url if image.thumbnail else image.file.url
        return format_html(
            '<a href="{}" target="_blank"><img src="{}" alt="image {}" style="max-height:80px;max-width:120px"></a>',
            image.file.url,
            url,
            image.pk,
        )

    def has_add_permission(self, request, obj=None):
        return False  # images come in through "Add images", which validates them

    @admin.display(description="Colours (derived)")
    def colour_chips(self, image: ProductImage) -> str:
        return colour_chips(image.colors)

    @admin.display(description="Near-duplicate of")
    def duplicate_link(self, image: ProductImage) -> str:
        return duplicate_link(image)


def colour_chips(colours: list[dict]) -> str:
    """Derived colours as swatches with their shares. SVG fills, not style attributes: the
    Content-Security-Policy allows no inline style."""
    if not colours:
        return "-"
    return format_html_join(
        " ",
        '<span class="colour-chip"><svg width="12" height="12" aria-hidden="true">'
        '<rect width="12" height="12" rx="2" fill="{}" stroke="#888"/></svg> {} {}%</span>',
        (
            (c.get("hex") or "#ffffff", c.get("name", "?"), round(100 * float(c.get("share", 0))))
            for c in colours
        ),
    )


def _attribute_source(item: dict) -> str:
    if item["source"] == "merchant":
        return "typed by the merchant"
    confidence = (item.get("derived") or {}).get("confidence")
    if confidence is None:
        return "no value reached the attribute's threshold"
    return f"confidence {confidence:.2f}"


def duplicate_link(image: ProductImage) -> str:
    if image.duplicate_of_id is None:
        return "-"
    state = " (dismissed)" if image.duplicate_dismissed else ""
    return format_html(
        '<a href="{}">image {}</a>{}',
        reverse("admin:catalog_productimage_change", args=[image.duplicate_of_id]),
        image.duplicate_of_id,
        state,
    )


class MerchantScopedAdmin(admin.ModelAdmin):
    """Staff see and edit only rows of the merchants they belong to; superusers see all."""

    merchant_path = "merchant"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(
            **{f"{self.merchant_path}__in": selectors.merchants_for_user(user=request.user)}
        )


@admin.register(Product)
class ProductAdmin(MerchantScopedAdmin):
    form = ProductAdminForm
    inlines = [ProductImageInline]
    list_display = [
        "title",
        "sku",
        "merchant",
        "brand",
        "category",
        "price",
        "currency",
        "in_stock",
        "is_active",
        "image_summary",
    ]
    list_filter = ["is_active", "in_stock", "category", "brand"]
    search_fields = ["title", "sku", "gtin", "mpn", "brand"]
    list_select_related = ["merchant"]
    actions = ["reindex_selected", "confirm_derived_colours", "draft_with_ai"]

    class Media:
        css = {"all": ["catalog/enrichment-admin.css"]}

    # Each draft waits for the model (ENRICHMENT_DRAFT_TIMEOUT_MS): a few per click keeps the
    # page's answer within a minute or so.
    MAX_DRAFTS_PER_ACTION = 5

    def get_readonly_fields(self, request, obj=None):
        # A product belongs to one merchant for life (its SKU, images and points are theirs).
        if obj is None:
            return []
        return ["merchant", "colours", "derived_attribute_values", "ai_drafts"]

    @admin.display(description="AI drafts to review")
    def ai_drafts(self, product: Product) -> str:
        pending = selectors.product_drafts_pending(product=product)
        if not pending:
            return 'None. Select the product in the list and run "Draft title/description with AI".'
        # Buttons, not forms: this sits inside the product's own form. Each button posts the
        # form to the draft's own address (formaction), which reads only its fields.
        return format_html_join(
            "",
            '<div class="ai-draft"><p class="ai-draft-meta">Draft {} by {}, {}</p>'
            "<p><strong>Title:</strong> {}</p><p><strong>Description:</strong> {}</p>"
            "<p><strong>Attributes:</strong> {}</p>"
            '<p class="ai-draft-parts">Take: '
            '<label><input type="checkbox" name="draft-{}-parts" value="title" checked> title</label> '
            '<label><input type="checkbox" name="draft-{}-parts" value="description" checked> description</label> '
            '<label><input type="checkbox" name="draft-{}-parts" value="attributes"> attributes</label></p>'
            '<p><button type="submit" class="button default" formaction="{}">Accept</button> '
            '<button type="submit" class="button" formaction="{}">Discard</button></p></div>',
            (
                (
                    draft.pk,
                    draft.model or "the model",
                    draft.created_at.strftime("%Y-%m-%d %H:%M"),
                    draft.title,
                    draft.description or "-",
                    ", ".join(f"{k}: {v}" for k, v in draft.attributes.items()) or "-",
                    draft.pk,
                    draft.pk,
                    draft.pk,
                    reverse("admin:catalog_product_draft", args=[product.pk, draft.pk, "accept"]),
                    reverse("admin:catalog_product_draft", args=[product.pk, draft.pk, "discard"]),
                )
                for draft in pending
            ),
        )

    @admin.action(description="Draft title/description with AI")
    def draft_with_ai(self, request, queryset):
        drafter = drafting.drafter_get()
        if drafter is None:
            self.message_user(request, "No drafter is installed.", messages.ERROR)
            return
        products = list(queryset[: self.MAX_DRAFTS_PER_ACTION + 1])
        if len(products) > self.MAX_DRAFTS_PER_ACTION:
            self.message_user(
                request,
                f"Drafting the first {self.MAX_DRAFTS_PER_ACTION} only: each waits for the model.",
                messages.WARNING,
            )
            products = products[: self.MAX_DRAFTS_PER_ACTION]
        drafted = 0
        for product in products:
            try:
                copy = drafter(product)
            except drafting.DraftingFailed as exc:
                self.message_user(request, f"{product}: {exc}", messages.ERROR)
                continue
            services.product_draft_record(product=product, copy=copy, requested_by=request.user)
            drafted += 1
        if drafted:
            self.message_user(
                request,
                f"{drafted} draft(s) written; open the product to accept or discard its draft. "
                "Nothing was changed yet.",
                messages.SUCCESS,
            )

    def draft_review_view(self, request, product_id: int, draft_id: int, decision: str):
        product = self.get_queryset(request).filter(pk=product_id).first()
        if request.method != "POST" or product is None:
            raise Http404
        if not self.has_change_permission(request, product):
            raise PermissionDenied
        draft = selectors.product_draft_get(product=product, draft_id=draft_id)
        if draft is None or decision not in ("accept", "discard"):
            raise Http404
        try:
            if decision == "accept":
                parts = request.POST.getlist(f"draft-{draft.pk}-parts")
                services.product_draft_accept(draft=draft, parts=parts, user=request.user)
                self.message_user(
                    request, f"Draft {draft.pk} accepted: {', '.join(parts)}.", messages.SUCCESS
                )
            else:
                services.product_draft_discard(draft=draft, user=request.user)
                self.message_user(request, f"Draft {draft.pk} discarded.", messages.SUCCESS)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:catalog_product_change", args=[product.pk]))

    def get_urls(self):
        review = path(
            "<int:product_id>/drafts/<int:draft_id>/<str:decision>/",
            self.admin_site.admin_view(self.draft_review_view),
            name="catalog_product_draft",
        )
        return [review, *super().get_urls()]

    @admin.display(description="Attributes (derived)")
    def derived_attribute_values(self, product: Product) -> str:
        found = selectors.product_attribute_values(product=product)
        if not found:
            return "-"
        return format_html_join(
            mark_safe("<br>"),
            "{}: {} ({})",
            (
                (
                    name,
                    ", ".join(item["values"]) or "unsure",
                    _attribute_source(item),
                )
                for name, item in found.items()
            ),
        )

    @admin.display(description="Colours")
    def colours(self, product: Product) -> str:
        found = selectors.product_colors(product=product)
        source = {
            "merchant": "typed by the merchant (attributes.color); derived: ",
            "derived": "derived from the images, not confirmed: ",
            "none": "none yet",
        }[found["source"]]
        return format_html(
            "{}{}<br>{}",
            ", ".join(found["values"]) + " - " if found["source"] == "merchant" else "",
            source,
            colour_chips(found["derived"]),
        )

    @admin.action(description="Confirm the derived colours of the selected products")
    def confirm_derived_colours(self, request, queryset):
        confirmed = 0
        for product in queryset:
            try:
                services.product_colors_confirm(product=product)
                confirmed += 1
            except ValidationError:
                self.message_user(request, f"{product}: no derived colours yet.", messages.WARNING)
        if confirmed:
            self.message_user(
                request,
                f"{confirmed} product(s): derived colours confirmed; edit attributes.color to "
                "correct them.",
                messages.SUCCESS,
            )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "merchant":
            kwargs["queryset"] = selectors.merchants_for_user(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("images")

    @admin.display(description="Images (indexed/total)")
    def image_summary(self, product: Product) -> str:
        images = list(product.images.all())
        indexed = sum(1 for image in images if image.status == ProductImage.Status.INDEXED)
        failed = sum(1 for image in images if image.status == ProductImage.Status.FAILED)
        text = f"{indexed}/{len(images)}"
        return f"{text}, {failed} failed" if failed else text

    def save_model(self, request, obj, form, change):
        # Writes go through the services so the vector index hears about them.
        data = {
            name: form.cleaned_data[name]
            for name in services.PRODUCT_EDITABLE_FIELDS
            if name in form.cleaned_data
        }
        if change:
            fresh = Product.objects.get(pk=obj.pk)
            form.instance = services.product_update(product=fresh, data=data)
        else:
            form.instance = services.product_create(merchant=form.cleaned_data["merchant"], **data)
        obj.pk = form.instance.pk

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        added, refused = 0, []
        for name, content in form.cleaned_data.get("new_images") or []:
            try:
                with transaction.atomic():
                    services.product_image_create(product=form.instance, data=content)
                added += 1
            except ValidationError as exc:
                refused.append(f"{name}: {' '.join(exc.messages)}")
        if added:
            self.message_user(
                request, f"{added} image(s) added; indexing has started.", messages.SUCCESS
            )
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    def delete_model(self, request, obj):
        services.product_delete(product=obj)

    def delete_queryset(self, request, queryset):
        for product in queryset:
            services.product_delete(product=product)

    @admin.action(description="Re-index the images of the selected products")
    def reindex_selected(self, request, queryset):
        count = services.products_reindex_request(
            product_ids=list(queryset.values_list("id", flat=True))
        )
        self.message_user(request, f"{count} image(s) queued for indexing.", messages.SUCCESS)


@admin.register(ProductImage)
class ProductImageAdmin(MerchantScopedAdmin):
    merchant_path = "product__merchant"
    list_display = [
        "id",
        "preview",
        "product",
        "status",
        "failure_reason",
        "indexed_at",
        "colour_chips",
        "duplicate_link",
    ]
    list_filter = ["status", "duplicate_dismissed"]
    list_select_related = ["product"]
    readonly_fields = [
        "product",
        "file",
        "thumbnail",
        "sha256",
        "width",
        "height",
        "content_type",
        "status",
        "failure_reason",
        "model_revision",
        "indexed_at",
        "colour_chips",
        "duplicate_link",
    ]
    fields = [
        "product",
        "position",
        "file",
        "thumbnail",
        "sha256",
        "width",
        "height",
        "content_type",
        "status",
        "failure_reason",
        "model_revision",
        "indexed_at",
        "colour_chips",
        "duplicate_link",
    ]

    preview = ProductImageInline.preview
    colour_chips = ProductImageInline.colour_chips
    duplicate_link = ProductImageInline.duplicate_link

    def get_urls(self):
        review = path(
            "near-duplicates/",
            self.admin_site.admin_view(self.near_duplicates_view),
            name="catalog_productimage_near_duplicates",
        )
        return [review, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "near_duplicates_url": "near-duplicates/"}
        return super().changelist_view(request, extra_context)

    def near_duplicates_view(self, request):
        """Near-duplicate groups of the staff user's merchants, side by side, to keep both
        (dismiss the flag) or open the copy and delete it. Shop staff also see the same
        photo in different merchants' catalogues; merchant staff never do."""
        across = selectors.user_reviews_duplicates_across_merchants(user=request.user)
        merchants = (
            None if request.user.is_superuser else selectors.merchants_for_user(user=request.user)
        )
        if request.method == "POST":
            self._dismiss(request, across_merchants=across)
            return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": "Near-duplicate images to review",
            "groups": selectors.near_duplicate_groups(merchants=merchants),
            "across": across,
            "groups_across": (selectors.near_duplicate_groups_across_merchants() if across else []),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/catalog/productimage/near_duplicates.html", context)

    def _dismiss(self, request, *, across_merchants: bool) -> None:
        if request.POST.get("dismiss_across"):
            if not across_merchants:
                raise PermissionDenied
            image = ProductImage.objects.filter(pk=request.POST["dismiss_across"]).first()
            if image is not None:
                services.product_image_duplicate_dismiss(image=image, across_merchants=True)
                self.message_user(
                    request,
                    f"Image {image.pk}: not a copy of another shop's image, flag dismissed.",
                    messages.SUCCESS,
                )
            return
        image = self.get_queryset(request).filter(pk=request.POST.get("dismiss") or 0).first()
        if image is not None and self.has_change_permission(request, image):
            services.product_image_duplicate_dismiss(image=image)
            self.message_user(request, f"Image {image.pk} kept: flag dismissed.", messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        services.product_image_delete(image=obj)

    def delete_queryset(self, request, queryset):
        for image in queryset:
            services.product_image_delete(image=image)


class MembershipInline(admin.TabularInline):
    model = MerchantMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return selectors.merchants_for_user(user=request.user)
