"""AI-written product copy: a vision-language model drafts a title, a description and
attributes from the product's images, for the merchant to accept or edit. Nothing is written
to the product here: the draft goes back to the merchant.

The model is the re-ranking back end's: an OpenAI-compatible endpoint (``RERANK_API_BASE`` /
``RERANK_MODEL``) or a local transformers VLM (``RERANK_LOCAL_MODEL``), within
``ENRICHMENT_DRAFT_TIMEOUT_MS``. ``drafter`` is what the catalogue admin's action calls
(registered in search/apps.py); the draft is kept for the merchant to accept or discard.
"""

from __future__ import annotations

import io
import json
import re
import time

from django.conf import settings
from PIL import Image

from catalog import selectors as catalog_selectors
from catalog.drafting import DraftedCopy, DraftingFailed
from catalog.models import Product
from search.rerankers.base import (
    RerankEndpointError,
    RerankError,
    RerankTimeout,
    jpeg_bytes,
    shrink,
)
from search.rerankers.cascade import get_reranker
from search.rerankers.local_vlm import LocalVLMReranker
from search.rerankers.openai_compat import OpenAICompatibleReranker

MAX_IMAGES = 3
MAX_REPLY_TOKENS = 600
TITLE_MAX = 300
DESCRIPTION_MAX = 5000

PROMPT = (
    "You write product listings for an online shop. From the photos, draft a listing for "
    "this product. Category: {category}. Brand: {brand}. Current title: {title}. Answer only "
    'with a JSON object: {{"title": "<at most 80 characters>", "description": "<2 to 4 '
    'factual sentences about what the photos show>", "attributes": {{"<name>": "<value>", '
    "...}} (colour, pattern, material, style; only what the photos show)}}."
)


class DraftUnavailable(Exception):
    """No vision-language model is configured (the API answers 503 naming the settings)."""


class DraftFailed(Exception):
    """The model did not answer in time, or not usably; ``timeout`` tells which."""

    def __init__(self, reason: str, *, timeout: bool = False) -> None:
        super().__init__(reason)
        self.timeout = timeout


Draft = DraftedCopy


def draft_product(product: Product) -> Draft:
    reranker = get_reranker()
    if not isinstance(reranker, OpenAICompatibleReranker | LocalVLMReranker):
        raise DraftUnavailable(
            "Drafting needs a vision-language model: set RERANK_API_BASE and RERANK_MODEL (an "
            "OpenAI-compatible endpoint) or RERANK_LOCAL_MODEL (a local transformers model)."
        )
    images = _images(product)
    if not images:
        raise DraftFailed("The product has no images to describe yet.")
    prompt = PROMPT.format(
        category=product.category or "unknown",
        brand=product.brand or "unknown",
        title=product.title,
    )
    deadline = time.monotonic() + settings.ENRICHMENT_DRAFT_TIMEOUT_MS / 1000
    try:
        answer = reranker.ask(prompt, images, deadline=deadline, max_tokens=MAX_REPLY_TOKENS)
    except RerankTimeout as exc:
        raise DraftFailed("The model did not answer in time.", timeout=True) from exc
    except RerankEndpointError as exc:
        raise DraftFailed(f"The model's endpoint failed ({exc.reason}).") from exc
    except RerankError as exc:
        raise DraftFailed("The model's answer could not be read.") from exc
    return _parsed(answer, model=reranker.model)


def drafter(product: Product) -> DraftedCopy:
    """``draft_product`` as the catalogue's drafter (catalog/drafting.py): one kind of
    failure, its words for the merchant."""
    try:
        return draft_product(product)
    except (DraftUnavailable, DraftFailed) as exc:
        raise DraftingFailed(str(exc)) from exc


def _images(product: Product) -> list[bytes]:
    out = []
    for image in list(product.images.order_by("position", "id"))[:MAX_IMAGES]:
        name = str(image.thumbnail.name or image.file.name)
        data = catalog_selectors.image_file_reader(name=name)()
        out.append(jpeg_bytes(shrink(Image.open(io.BytesIO(data)).convert("RGB"))))
    return out


def _parsed(answer: str, *, model: str) -> Draft:
    """The draft in the model's answer, tolerating a JSON object wrapped in prose or a code
    fence; anything else is a failure, never a half-made draft."""
    match = re.search(r"\{.*\}", answer or "", re.DOTALL)
    try:
        data = json.loads(match.group(0)) if match else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise DraftFailed("The model's answer was not a JSON object.")
    title, description = data.get("title"), data.get("description")
    if not isinstance(title, str) or not title.strip():
        raise DraftFailed("The model's answer has no title.")
    if not isinstance(description, str):
        raise DraftFailed("The model's answer has no description.")
    raw = data.get("attributes")
    raw_attributes: dict = raw if isinstance(raw, dict) else {}
    attributes = {
        str(k).strip().lower()[:60]: str(v).strip()[:120]
        for k, v in raw_attributes.items()
        if isinstance(v, (str, int, float)) and str(k).strip() and str(v).strip()
    }
    return Draft(
        title=" ".join(title.split())[:TITLE_MAX],
        description=description.strip()[:DESCRIPTION_MAX],
        attributes=dict(list(attributes.items())[:20]),
        model=model,
    )
