"""The figures of `manage.py index_status` and of the admin's index status page, one line
each: PostgreSQL against the vector index, the image generations with their switch-gate
verdicts, and the precision each encoder runs in on this host."""

from search.encoding.base import ModelUnavailable
from search.encoding.registry import get_clip_encoder, get_text_encoder
from search.index.consistency import IndexStatus, describe
from search.models import IndexGeneration
from search.relevance.gate import evaluation_summary


def status_lines(status: IndexStatus) -> list[str]:
    lines = describe(status)
    for generation in IndexGeneration.objects.filter(kind=IndexGeneration.Kind.IMAGES):
        live = " (live)" if generation.collection == status.image_collection else ""
        lines.append(
            f"image generation {generation.collection}{live}: {generation.model_name}, "
            f"switch gate: {evaluation_summary(generation.evaluation)}"
        )
    return lines + precision_lines()


def precision_lines() -> list[str]:
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
