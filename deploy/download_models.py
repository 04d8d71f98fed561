"""Fetch the pinned models into HF_HOME, so that serving containers can start offline.

    python deploy/download_models.py [NAME[@REVISION] ...]
    (in the image: entrypoint.sh download-models [NAME[@REVISION] ...])

Fetches the configured models (CLIP_MODEL at CLIP_MODEL_REVISION, TEXT_MODEL,
RERANK_LOCAL_MODEL, DETECTOR_MODEL at DETECTOR_MODEL_REVISION when DETECTOR_ENABLED) and any extra ones named as arguments: before a `reindex --model`
upgrade, every pod that encodes needs the next model on its volume too.

Run once per models volume (a compose one-shot, a Kubernetes init container or Job); web and
worker containers then run with HF_HUB_OFFLINE=1 and read the same volume. A model given as a
local directory (mounted weights) is left alone. Weights are never baked into the image:
the image stays small and a model upgrade needs no rebuild.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The weights travel in one format: skip the other frameworks' copies of the same tensors.
_IGNORE_ALWAYS = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "onnx/*", "*.tflite", "openvino/*"]
_PICKLED_WEIGHTS = ["*.bin", "*.pt", "*.pth"]

logger = logging.getLogger("download_models")


def parse_model(spec: str) -> tuple[str, str | None]:
    """`org/name@revision` -> ("org/name", "revision"); without @, the default branch."""
    name, _, revision = spec.strip().partition("@")
    if not name:
        raise ValueError(f"not a model: {spec!r}")
    return name, revision or None


def models_to_fetch(settings: Any, extra: Sequence[str] = ()) -> list[tuple[str, str | None]]:
    """(hub id, revision) for every configured or extra model that is not a local directory."""
    wanted: list[tuple[str, str | None]] = [
        (settings.CLIP_MODEL, settings.CLIP_MODEL_REVISION or None),
        (settings.TEXT_MODEL, None),  # empty: the bundled all-MiniLM-L6-v2 package
        (settings.RERANK_LOCAL_MODEL, None),
        (
            getattr(settings, "DETECTOR_MODEL", "")
            if getattr(settings, "DETECTOR_ENABLED", False)
            else "",
            getattr(settings, "DETECTOR_MODEL_REVISION", "") or None,
        ),
        *(parse_model(spec) for spec in extra),
    ]
    fetch: list[tuple[str, str | None]] = []
    for name, revision in wanted:
        if not name or Path(name).is_dir() or (name, revision) in fetch:
            continue
        fetch.append((name, revision))
    return fetch


def download(name: str, revision: str | None) -> str:
    from huggingface_hub import HfApi, snapshot_download

    files = HfApi().list_repo_files(name, revision=revision)
    ignore = list(_IGNORE_ALWAYS)
    if any(file.endswith(".safetensors") for file in files):
        ignore += _PICKLED_WEIGHTS
    return snapshot_download(repo_id=name, revision=revision, ignore_patterns=ignore)


def main(argv: Sequence[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    # This one process is meant to reach the hub, whatever the serving containers are told.
    os.environ["HF_HUB_OFFLINE"] = "0"
    os.environ["TRANSFORMERS_OFFLINE"] = "0"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    for name, revision in models_to_fetch(settings, argv):
        logger.info("fetching %s at %s", name, revision or "the default branch")
        path = download(name, revision)
        logger.info("%s is in %s", name, path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
