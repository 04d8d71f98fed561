"""`manage.py index_status`: image counts by status, and PostgreSQL vs vector index differences."""

from django.core.management.base import BaseCommand

from search.encoding.base import ModelUnavailable
from search.encoding.registry import get_clip_encoder, get_text_encoder
from search.index.consistency import index_status
from search.models import IndexGeneration
from search.relevance.gate import evaluation_summary


class Command(BaseCommand):
    help = "Show indexing status and the differences between PostgreSQL and the vector index."

    def handle(self, *args, **options):
        status = index_status()
        out = self.stdout.write
        out(
            "images by status: "
            + ", ".join(f"{name} {count}" for name, count in status.image_counts.items())
        )
        out(
            f"live image collection: {status.image_collection or '(none yet)'} with {status.image_points} point(s)"
        )
        out(
            f"live product collection: {status.product_collection or '(none yet)'} with {status.product_points} point(s)"
        )
        out(
            f"images indexed in PostgreSQL but missing from the vector index: {len(status.missing_images)}"
        )
        out(f"image points without an image: {len(status.orphan_image_points)}")
        out(f"images built with an older model: {len(status.stale_images)}")
        out(f"products missing from the vector index: {len(status.missing_products)}")
        out(f"product points without a product: {len(status.orphan_product_points)}")
        out(
            f"products whose points carry other values (price, stock, ...): {len(status.stale_payloads)}"
        )
        if status.outbox is not None:
            out(
                f"index work outstanding (outbox): {status.outbox.depth}, oldest "
                f"{status.outbox.oldest_age_seconds:.1f} s, failing {status.outbox.failing}"
            )
        for generation in IndexGeneration.objects.filter(kind=IndexGeneration.Kind.IMAGES):
            live = " (live)" if generation.collection == status.image_collection else ""
            out(
                f"image generation {generation.collection}{live}: {generation.model_name}, "
                f"switch gate: {evaluation_summary(generation.evaluation)}"
            )
        for line in _precision_lines():
            out(line)
        if status.consistent:
            out(self.style.SUCCESS("PostgreSQL and the vector index agree."))
        else:
            out(self.style.WARNING("Differences found: run `manage.py reconcile` to repair them."))


def _precision_lines() -> list[str]:
    """The precision each encoder runs in on this host (loads them, with the check at load:
    the same choice a worker with these settings and this CPU makes)."""
    lines = []
    for tower, setting, get in (
        ("CLIP", "CLIP_PRECISION", get_clip_encoder),
        ("text model", "TEXT_PRECISION", get_text_encoder),
    ):
        try:
            encoder = get()
            encoder.load()
        except ModelUnavailable as exc:
            lines.append(f"{tower} precision: model unavailable ({exc})")
            continue
        report = encoder.precision
        assert report is not None
        cosine = (
            "" if report.min_cosine is None else f", min cosine to fp32 {report.min_cosine:.4f}"
        )
        line = (
            f"{tower} precision on this host: {report.mode} ({setting}={report.requested}{cosine})"
        )
        if report.fell_back:
            line += f"; fell back from {report.chosen}: {report.reason}"
        lines.append(line)
    return lines
