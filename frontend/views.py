"""The storefront: one page. The browser does the searching through the search API
(search/api/); this view only hands it the page, its settings and a CSRF cookie."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from catalog import selectors
from search.enrichment.palette import get_palette

PAGE_SIZE = 24  # divides evenly into 2, 3 and 4 columns


def _similar_source(raw: str | None) -> dict | None:
    """The product a shared ?similar=ID link is about, so a reload can name it."""
    if not raw or not raw.isdigit():
        return None
    product = selectors.product_with_images(product_id=int(raw))
    if product is None or not product.is_active:
        return None
    image = next(iter(product.images.all()), None)
    thumbnail = None
    if image is not None:
        thumbnail = image.thumbnail.url if image.thumbnail else image.file.url
    return {"product_id": product.pk, "title": product.title, "thumbnail_url": thumbnail}


@require_safe
@ensure_csrf_cookie  # DRF's SessionAuthentication wants the token from a logged-in shopper
def storefront(request: HttpRequest) -> HttpResponse:
    rerank_enabled = bool(settings.RERANK_ENABLED)
    config = {
        "searchUrl": reverse("search"),
        "eventsUrl": reverse("events"),  # search analytics: clicks and add-to-carts
        "detectUrl": reverse("search-detect"),
        "detectEnabled": bool(settings.DETECTOR_ENABLED),
        # "{id}" is filled in by the page; reverse() needs a number to build the pattern.
        "similarUrl": reverse("product-similar", kwargs={"product_id": 0}).replace("/0/", "/{id}/"),
        "rerankEnabled": rerank_enabled,
        "maxTextLength": settings.SEARCH_MAX_TEXT_LENGTH,
        "pageSize": PAGE_SIZE,
        "similarSource": _similar_source(request.GET.get("similar")),
        # Colour facet swatches: the palette's display colour per name.
        "colorSwatches": get_palette().swatches,
    }
    context = {
        "shop_name": settings.SHOP_NAME,
        "rerank_enabled": rerank_enabled,
        "max_text_length": settings.SEARCH_MAX_TEXT_LENGTH,
        "config": config,
    }
    return render(request, "frontend/storefront.html", context)
