"""Where model weights come from: the Hugging Face cache, the hub, or a local directory.

Shared by every encoder: a model's identity (its revision) is the pinned commit of a hub id,
or a content hash of a directory's files, so vectors from another model can be found.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

logger = logging.getLogger(__name__)

# Files of a model directory that decide the vectors it produces (README and the like do not).
_CONTENT_SUFFIXES = (".json", ".txt", ".safetensors", ".bin", ".model", ".pt", ".pth")


def offline() -> bool:
    """True when downloads are forbidden (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)."""
    from huggingface_hub import constants

    # The environment too: the hub reads it once at import; tests and operators may set it later.
    return constants.HF_HUB_OFFLINE or any(
        os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def slug(text: str) -> str:
    """A collection-name safe form of a model name."""
    slugged = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slugged[:48].strip("-") or "model"


def looks_like_path(model: str) -> bool:
    # A hub id is "name" or "owner/name"; anything else can only have meant a directory.
    return model.startswith(("/", ".", "~")) or model.count("/") > 1


def directory_content_hash(directory: Path) -> str:
    """sha256 over the relative names and bytes of the files that decide a model's output."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if not path.name.endswith(_CONTENT_SUFFIXES) or path.name.lower().startswith("readme"):
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        with path.open("rb") as fh:
            digest.update(hashlib.file_digest(fh, "sha256").digest())
    return digest.hexdigest()


def cached_commit(repo_id: str, revision: str | None, filename: str = "config.json") -> str | None:
    """The commit a hub id and revision (branch, tag or sha) resolve to in the local cache."""
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(repo_id, filename, revision=revision)
    except ValueError:  # not a valid repo id
        return None
    return Path(cached).parent.name if isinstance(cached, str) else None  # snapshots/<commit>/


def hub_has(repo_id: str, revision: str | None) -> bool:
    """One quick request, no retries: is the hub reachable and does it know this revision?

    A download of a missing file retries with back-off for half a minute; this answers in one
    round trip (HF_HUB_ETAG_TIMEOUT at most), so an unreachable hub fails fast.
    """
    from huggingface_hub import HfApi, constants

    try:
        HfApi().model_info(repo_id, revision=revision, timeout=constants.HF_HUB_ETAG_TIMEOUT)
    except Exception:  # unreachable, unknown repo or revision, no access
        logger.debug("Hub lookup of %s@%s failed", repo_id, revision, exc_info=True)
        return False
    return True
