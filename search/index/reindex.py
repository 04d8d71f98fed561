"""Rebuilds of the vector index from PostgreSQL.

Same model: re-upserts points in place, reusing the stored embeddings (no model run).
Another model: builds a new collection beside the live one (blue/green), then switches the
alias in one step; searches keep answering from the old collection until then. A rebuild
that stops half-way resumes: points already in the new collection are skipped.

Before the alias moves, a gate (given by the caller: ``manage.py reindex`` passes the
held-out evaluation of search/relevance/gate.py) compares the new model with the live one; its
figures are recorded on the new generation, and a refusal leaves the built collection unused
(a later run with ``force`` switches to it without encoding again).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from search.encoding.clip import ClipEncoder
from search.encoding.registry import clip_encoder_for
from search.index import generations
from search.index import sync as indexing
from search.index.chunks import iter_chunks
from search.index.documents import image_point_id
from search.models import IndexGeneration
from search.vector_index import get_vector_index
from search.vector_index.base import VectorIndex

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class ReindexReport:
    collection: str
    switched: bool
    embedded: int = 0
    reused: int = 0
    skipped: int = 0
    failed: int = 0
    products: int = 0
    verdict: "SwitchVerdict | None" = None


class ReindexError(ValueError):
    pass


@dataclass(frozen=True)
class SwitchVerdict:
    allowed: bool
    summary: str  # the figures, for the operator
    evaluation: dict[str, Any] = field(default_factory=dict)  # recorded on the generation


# (live encoder, candidate encoder) -> verdict; called once the candidate's vectors are built.
SwitchGate = Callable[[ClipEncoder, ClipEncoder], SwitchVerdict]


class SwitchRefused(ReindexError):
    def __init__(self, verdict: SwitchVerdict) -> None:
        super().__init__(verdict.summary)
        self.verdict = verdict


def reindex_images(
    *,
    model_name: str | None = None,
    revision: str | None = None,
    merchant_slug: str = "",
    batch_size: int = 16,
    progress: Progress | None = None,
    gate: SwitchGate | None = None,
    force: bool = False,
) -> ReindexReport:
    """With ``gate``, a switch to another model happens only when the gate allows it (or with
    ``force``); SwitchRefused otherwise, the live collection untouched."""
    index = get_vector_index()
    live_collection, live_encoder = generations.live_images(index)
    encoder = clip_encoder_for(model_name, revision or "") if model_name else live_encoder
    target = generations.image_collection_name(encoder.model_key)
    in_place = target == live_collection
    if not in_place and merchant_slug:
        raise ReindexError("A rebuild with another model covers every merchant; drop --merchant.")
    if not in_place:
        generations.create_generation(index, kind=IndexGeneration.Kind.IMAGES, encoder=encoder)

    report = ReindexReport(collection=target, switched=False)
    images = catalog_selectors.product_image_ids_for_reindex(merchant_slug=merchant_slug)
    total = images.count()
    done = 0
    last_id = 0
    # Loop until a pass finds nothing new: images uploaded during the rebuild are caught too.
    while True:
        batch = list(
            catalog_selectors.product_image_ids_for_reindex(
                merchant_slug=merchant_slug, after_id=last_id
            ).values_list("id", flat=True)[:batch_size]
        )
        if not batch:
            break
        last_id = batch[-1]
        todo = batch
        if not in_place:
            present = _images_in(index, target, batch, encoder.model_key)
            todo = [i for i in batch if i not in present]
            report.skipped += len(batch) - len(todo)
        if todo:
            result = indexing.index_images(
                todo, collection=None if in_place else target, encoder=encoder, index=index
            )
            report.embedded += len(result.indexed)
            report.reused += len(result.reused)
            report.failed += len(result.failed)
        done += len(batch)
        if progress:
            progress(done, max(total, done))

    if not in_place and gate is not None:
        verdict = gate(live_encoder, encoder)
        report.verdict = verdict
        IndexGeneration.objects.filter(collection=target).update(
            evaluation={**verdict.evaluation, "allowed": verdict.allowed, "forced": force}
        )
        if not verdict.allowed and not force:
            raise SwitchRefused(verdict)
        logger.info("switch gate: %s", verdict.summary)
    if not in_place:
        generations.make_live(index, alias=generations.images_alias(), collection=target)
        IndexGeneration.objects.filter(collection=target).update(completed_at=timezone.now())
        ids = list(catalog_selectors.product_image_ids_for_reindex().values_list("id", flat=True))
        built: set[int] = set()
        for chunk in iter_chunks(ids, 512):
            built |= _images_in(index, target, chunk, encoder.model_key)
        catalog_services.product_images_mark_indexed(
            image_ids=built, model_revision=encoder.model_key
        )
        report.switched = True
        logger.info("image alias switched from %s to %s", live_collection, target)
    return report


def _images_in(
    index: VectorIndex, collection: str, image_ids: list[int], model_key: str
) -> set[int]:
    """The images among `image_ids` that already have a point for `model_key` in `collection`:
    a resumed rebuild skips them, and the switch marks them indexed."""
    point_ids = {image_point_id(i, model_key): i for i in image_ids}
    return {point_ids[point_id] for point_id, _, _ in index.retrieve(collection, list(point_ids))}


def reindex_products(
    *, merchant_slug: str = "", batch_size: int = 256, progress: Progress | None = None
) -> int:
    products = catalog_selectors.product_ids_for_reindex(merchant_slug=merchant_slug)
    ids = list(products.values_list("id", flat=True))
    done = 0
    for chunk in iter_chunks(ids, batch_size):
        done += indexing.index_products(chunk)
        if progress:
            progress(done, len(ids))
    return done
