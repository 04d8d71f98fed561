"""Load the search models before the first shopper needs them.

Lazily, the first searches of a new web worker would wait several seconds: torch and
transformers imports, CLIP and the text model from disk, their precision checks
(search/encoding/precision.py). `deploy/gunicorn.conf.py` runs `warm_models` in a background thread
as each worker starts; a search that arrives meanwhile waits on the same load locks instead of
loading twice.
"""

from __future__ import annotations

import logging
import time

from search.encoding.base import ModelUnavailable
from search.encoding.registry import get_clip_encoder, get_text_encoder

logger = logging.getLogger(__name__)

WARMUP_TEXT = "warm up"


def warm_models() -> None:
    """Load CLIP and the text model and build their query paths; never raises: a model that
    cannot load is reported when a search needs it (with the same message)."""
    started = time.perf_counter()
    ready = []
    for name, warm in (
        ("text model", lambda: get_text_encoder().encode_query(WARMUP_TEXT)),
        ("CLIP", lambda: get_clip_encoder().encode_text_query(WARMUP_TEXT)),
    ):
        try:
            warm()
            ready.append(name)
        except ModelUnavailable as exc:
            logger.info("warm-up: %s unavailable: %s", name, exc)
        except Exception:  # a warm-up must never take the worker down
            logger.exception("warm-up: loading the %s failed", name)
    logger.info(
        "warm-up: %s ready in %.1f s",
        " and ".join(ready) or "no model",
        time.perf_counter() - started,
    )
