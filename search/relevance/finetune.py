"""Contrastive fine-tuning of a CLIP-family model on the catalogue's image-title pairs.

The loss is CLIP's own: a symmetric cross-entropy over the batch's image-title similarities
(each image's title is its positive, the other titles of the batch its negatives). One image
per product per batch, so no product is its own negative. The lower layers of each tower stay
frozen (``train_layers``: how many of the top transformer layers learn, with the projections
and the temperature), which keeps a pretrained model's general knowledge and the run cheap;
-1 trains everything (a model from scratch, as bench/finetune.py does).

Held-out products (search/relevance/visual_sets.py, the same ones the switch gate judges on)
are never trained on; after every epoch the model is evaluated on them and the best epoch is
kept (early stopping after ``patience`` epochs without improvement). The output directory is a
standard transformers model directory (model, tokenizer, image processor): ``CLIP_MODEL`` or
``reindex --model`` take it as is, and its revision is the content hash of its files.
Resumable: the state of the last finished epoch is kept under ``.finetune/`` (hidden files do
not count towards the content hash).

Clicked query -> product pairs (``pairs``, search/relevance/pairs.py) join the image-title
pairs: each is the shopper's words and the product's primary image (the one the results showed),
its loss weighted by its clicks (as Marqo's GCL weights query-document pairs), an epoch being
every title and every pair once. Held-out products' pairs are evaluated on, never trained on.
A batch never holds a product or a text twice: in-batch negatives must be negatives.

Precision: bf16 autocast on a GPU that has it (fp16 with a gradient scaler otherwise), bf16 on
a CPU with native bf16 instructions (AVX512-BF16 or AMX), plain fp32 elsewhere: emulated bf16
on an AVX2 CPU is slower than fp32.
"""

from __future__ import annotations

import io
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from search.encoding.hub import directory_content_hash, looks_like_path, offline
from search.relevance.pairs import CLICK_TASK, PairSet
from search.relevance.visual import HEADLINE, Loader, Task, run_task
from search.relevance.visual_sets import Catalogue, held_out_tasks

logger = logging.getLogger(__name__)

STATE_DIR = ".finetune"
PIXEL_CACHE_BYTES = 2 * 1024**3


@dataclass
class FinetuneConfig:
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-5
    weight_decay: float = 0.1
    train_layers: int = 2  # top transformer layers per tower that learn; -1: all
    patience: int = 3
    held_out_share: float = 0.2
    seed: int = 0
    device: str = "cpu"
    max_steps_per_epoch: int = 0  # 0: every training product once per epoch


@dataclass
class EpochRecord:
    epoch: int
    loss: float | None  # mean training loss (None for the evaluation before training)
    score: float  # mean of the headline metrics over the held-out tasks
    metrics: dict[str, dict[str, float | None]]  # task -> summary


@dataclass
class FinetuneReport:
    output: str
    revision: str
    best_epoch: int
    history: list[EpochRecord] = field(default_factory=list)
    train_products: int = 0
    train_pairs: int = 0
    images_per_second: float = 0.0
    precision: str = "fp32"
    device: str = "cpu"
    resumed_from: int = 0


@dataclass(frozen=True)
class StepProgress:
    epoch: int
    epochs: int
    step: int  # batches done in this epoch
    steps: int  # batches in this epoch
    loss: float
    images_per_second: float  # over the run so far, training steps only


@dataclass(frozen=True)
class TrainItem:
    doc: str
    text: str
    weight: float = 1.0
    primary_image: bool = False  # a click pair: the image the results showed; a title: any


class FinetuneError(ValueError):
    pass


def cpu_supports_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Native bf16 arithmetic (AVX512-BF16 or AMX); torch would emulate it otherwise."""
    try:
        flags = cpuinfo.read_text(encoding="ascii", errors="ignore")
    except OSError:
        return False
    return any(flag in flags for flag in (" avx512_bf16", " amx_bf16"))


def _precision(device: str) -> tuple[Any, str]:
    import torch

    if device.startswith("cuda"):
        if torch.cuda.is_bf16_supported():
            return torch.bfloat16, "bf16 autocast (GPU)"
        return torch.float16, "fp16 autocast with gradient scaling (GPU)"
    if cpu_supports_bf16():
        return torch.bfloat16, "bf16 autocast (CPU with native bf16)"
    # AVX2-only CPUs (such as the one bench/finetune.py was last run on) emulate bf16 matmuls
    # by converting to fp32 and back: slower than plain fp32, and less precise.
    return None, "fp32 (this CPU has no native bf16: no AVX512-BF16 or AMX, emulation is slower)"


def _resolve_device(setting: str) -> str:
    import torch

    if setting in ("", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting.startswith("cuda") and not torch.cuda.is_available():
        raise FinetuneError(f"device {setting!r} asked for but torch sees no CUDA GPU")
    return setting


def load_parts(source: str, revision: str | None = None) -> tuple[Any, Any, Any]:
    """Model (fp32), tokenizer and image processor, as search/encoding/clip.py loads them."""
    import torch
    from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

    local = Path(source).expanduser().is_dir()
    if not local and looks_like_path(source):
        raise FinetuneError(f"no model directory at {source}")
    common: dict[str, Any] = {
        "revision": None if local else revision,
        "local_files_only": local or offline(),
    }
    try:
        model = AutoModel.from_pretrained(source, dtype=torch.float32, **common)
        tokenizer = AutoTokenizer.from_pretrained(source, **common)
        processor = AutoImageProcessor.from_pretrained(source, backend="pil", **common)
    except (OSError, ValueError) as exc:
        raise FinetuneError(f"cannot load a CLIP model from {source!r}: {exc}") from None
    if not (hasattr(model, "get_image_features") and hasattr(model, "get_text_features")):
        raise FinetuneError(f"{source!r} is a {type(model).__name__}, not a CLIP-style model")
    return model, tokenizer, processor


def _freeze(model: Any, train_layers: int) -> int:
    """Leave the top ``train_layers`` layers of each tower, the final norms, the projections
    and the temperature trainable; returns the number of trainable parameters."""
    if train_layers < 0:
        for parameter in model.parameters():
            parameter.requires_grad = True
        return sum(p.numel() for p in model.parameters())
    towers: list[Any] = [getattr(model, "text_model", None), getattr(model, "vision_model", None)]
    if any(getattr(getattr(t, "encoder", None), "layers", None) is None for t in towers):
        raise FinetuneError(
            f"{type(model).__name__} has no text_model/vision_model encoder layers to freeze "
            "selectively: train every layer (train_layers -1)"
        )
    for parameter in model.parameters():
        parameter.requires_grad = False
    trainable: list[Any] = []
    for tower in towers:
        layers = tower.encoder.layers
        trainable += list(layers)[max(0, len(layers) - train_layers) :] if train_layers else []
        trainable += [
            m
            for name in ("final_layer_norm", "post_layernorm")
            if (m := getattr(tower, name, None))
        ]
    trainable += [
        m for name in ("text_projection", "visual_projection") if (m := getattr(model, name, None))
    ]
    for module in trainable:
        for parameter in module.parameters():
            parameter.requires_grad = True
    if hasattr(model, "logit_scale"):
        model.logit_scale.requires_grad = True
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _features(output: Any) -> Any:
    return output if not hasattr(output, "pooler_output") else output.pooler_output


def _decode(data: bytes) -> Image.Image:
    image: Image.Image = Image.open(io.BytesIO(data))
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode != "RGB":
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba).convert("RGB")
    return image


class TrainingClip:
    """The model being trained, seen as an encoder by the evaluation (search/relevance/visual)."""

    model_key = "in-training"

    def __init__(self, model: Any, tokenizer: Any, processor: Any, device: str) -> None:
        self.model, self.tokenizer, self.processor, self.device = (
            model,
            tokenizer,
            processor,
            device,
        )
        positions = getattr(model.config.text_config, "max_position_embeddings", 77)
        self.max_length = int(min(positions, getattr(tokenizer, "model_max_length", positions)))
        self.pixel_cache: dict[int, np.ndarray] = {}
        self.pool = ThreadPoolExecutor(2, thread_name_prefix="finetune-decode")

    def pixels(self, loaders: Sequence[Loader]) -> Any:
        """Model inputs of the images; decoded once per run while the cache has room (the same
        catalogue images come back every epoch, in training and in the evaluation)."""
        import torch

        def one(loader: Loader) -> np.ndarray:
            cached = self.pixel_cache.get(id(loader))
            if cached is not None:
                return cached
            array = np.asarray(
                self.processor(images=[_decode(loader())], return_tensors="np")["pixel_values"][0],
                dtype=np.float32,
            )
            if len(self.pixel_cache) * array.nbytes < PIXEL_CACHE_BYTES:
                self.pixel_cache[id(loader)] = array
            return array

        arrays = list(self.pool.map(one, loaders))
        return torch.from_numpy(np.stack(arrays)).to(self.device)

    def tokens(self, texts: Sequence[str]) -> Any:
        tokens = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {name: tokens[name].to(self.device) for name in ("input_ids", "attention_mask")}

    # --- the evaluation's encoder interface ---------------------------------------------------

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        outputs = []
        with torch.inference_mode():
            for start in range(0, len(texts), 64):
                features = _features(
                    self.model.get_text_features(**self.tokens(texts[start : start + 64]))
                )
                outputs.append(
                    torch.nn.functional.normalize(features.float(), dim=-1).cpu().numpy()
                )
        return np.concatenate(outputs) if outputs else np.empty((0, 0), dtype=np.float32)

    def encode_image_stream(
        self, items: Iterable[tuple[int, Loader]], batch_size: int | None = None
    ) -> Iterator[tuple[int, object]]:
        import torch

        pairs = list(items)
        with torch.inference_mode():
            for start in range(0, len(pairs), batch_size or 64):
                chunk = pairs[start : start + (batch_size or 64)]
                features = _features(
                    self.model.get_image_features(
                        pixel_values=self.pixels([loader for _, loader in chunk])
                    )
                )
                vectors = torch.nn.functional.normalize(features.float(), dim=-1).cpu().numpy()
                yield from zip([k for k, _ in chunk], vectors, strict=True)


def pack_batches(items: Sequence[TrainItem], batch_size: int) -> list[list[TrainItem]]:
    """``items`` (already shuffled) in batches of ``batch_size`` with no product and no text
    twice in a batch: a second image of the same product, or a query clicked on two products,
    would be pushed away from itself as a negative. An item that clashes waits for the next
    batch (few do: the same query or product twice). Batches of one are dropped (no negative).
    """
    batches: list[list[TrainItem]] = []
    waiting: list[TrainItem] = []
    current: list[TrainItem] = []
    docs: set[str] = set()
    texts: set[str] = set()

    def fits(item: TrainItem) -> bool:
        return item.doc not in docs and item.text.casefold() not in texts

    def take(item: TrainItem) -> None:
        current.append(item)
        docs.add(item.doc)
        texts.add(item.text.casefold())

    def close() -> None:
        nonlocal current, docs, texts, waiting
        if len(current) >= 2:
            batches.append(current)
        current, docs, texts = [], set(), set()
        still = []
        for item in waiting:
            if len(current) < batch_size and fits(item):
                take(item)
            else:
                still.append(item)
        waiting = still

    for item in items:
        while len(current) >= batch_size:
            close()
        if fits(item):
            take(item)
        else:
            waiting.append(item)
    while current:
        close()
    return batches


def _score(tasks: Sequence[Task], clip: TrainingClip) -> tuple[float, dict[str, dict]]:
    clip.model.eval()
    metrics = {}
    values = []
    for task in tasks:
        summary = run_task(task, clip, reuse_stored=False).summary
        metrics[task.name] = summary
        values += [v for name in HEADLINE if (v := summary.get(name)) is not None]
    return (fmean(values) if values else 0.0), metrics


def _save(directory: Path, model: Any, tokenizer: Any, processor: Any) -> None:
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # one bar per epoch save drowns the training bar
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    processor.save_pretrained(directory)


def finetune(
    *,
    source: str,
    revision: str | None,
    output: Path,
    catalogue: Catalogue,
    config: FinetuneConfig,
    resume: bool = True,
    progress: Callable[[EpochRecord], Any] | None = None,
    show_bar: bool = False,
    pairs: PairSet | None = None,
    on_step: Callable[[StepProgress], Any] | None = None,
) -> FinetuneReport:
    """Train on the catalogue's non-held-out products (and click pairs), keep the best epoch in
    ``output``."""
    import torch
    from tqdm import tqdm

    tasks = held_out_tasks(catalogue, config.held_out_share)
    if pairs is not None and pairs.evaluation:
        tasks.append(
            Task(
                name=CLICK_TASK,
                queries=pairs.evaluation,
                gallery=catalogue.gallery(),
                notes=[f"clicked queries of {len(pairs.evaluation)} held-out product(s)"],
            )
        )
    train_docs = [doc for doc in catalogue.training(config.held_out_share) if catalogue.titles[doc]]
    items = [TrainItem(doc=doc, text=catalogue.titles[doc]) for doc in train_docs]
    items += [
        TrainItem(doc=p.doc, text=p.text, weight=p.weight, primary_image=True)
        for p in (pairs.training if pairs else [])
    ]
    if len({item.doc for item in items}) < 2:
        raise FinetuneError(
            f"only {len(train_docs)} product(s) with a title and an image to train on"
        )
    if not tasks:
        raise FinetuneError("no held-out product to evaluate on: raise the held-out share")
    device = _resolve_device(config.device)
    autocast_dtype, precision = _precision(device)
    state_dir = output / STATE_DIR
    state_file = state_dir / "state.pt"
    resuming = resume and state_file.is_file()
    model, tokenizer, processor = load_parts(
        str(state_dir / "last") if resuming else source, None if resuming else revision
    )
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    model.to(device)
    trainable = _freeze(model, config.train_layers)
    logger.info("fine-tuning %s: %s trainable parameters, %s", source, trainable, precision)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
    )
    scaler = torch.amp.GradScaler("cuda", enabled=autocast_dtype is torch.float16)
    clip = TrainingClip(model, tokenizer, processor, device)
    report = FinetuneReport(
        output=str(output),
        revision="",
        best_epoch=0,
        train_products=len(train_docs),
        train_pairs=len(items) - len(train_docs),
        precision=precision,
        device=device,
    )
    start_epoch, best, stale, rng_state = 1, -1.0, 0, None
    if resuming:
        state = torch.load(state_file, weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        report.history = [EpochRecord(**record) for record in state["history"]]
        start_epoch, best, stale = state["epoch"] + 1, state["best"], state["stale"]
        report.best_epoch, report.resumed_from, rng_state = (
            state["best_epoch"],
            state["epoch"],
            state["rng"],
        )
    else:
        score, metrics = _score(tasks, clip)
        report.history.append(EpochRecord(epoch=0, loss=None, score=score, metrics=metrics))
        best = score
        _save(output, model, tokenizer, processor)
        if progress:
            progress(report.history[-1])
    rng = random.Random(config.seed)
    if rng_state is not None:
        rng.setstate(rng_state)
    trained_images, trained_seconds = 0, 0.0
    for epoch in range(start_epoch, config.epochs + 1):
        if stale >= config.patience:
            break
        model.train()
        order = items[:]
        rng.shuffle(order)
        batches = pack_batches(order, config.batch_size)
        if config.max_steps_per_epoch:
            batches = batches[: config.max_steps_per_epoch]
        losses = []
        bar = tqdm(batches, desc=f"epoch {epoch}", unit="batch", disable=not show_bar)
        for step, batch in enumerate(bar, start=1):
            began = time.perf_counter()
            images = [
                catalogue.images[item.doc][
                    0 if item.primary_image else rng.randrange(len(catalogue.images[item.doc]))
                ]
                for item in batch
            ]
            pixels = clip.pixels([image.loader for image in images])
            tokens = clip.tokens([item.text for item in batch])
            weights = torch.tensor([item.weight for item in batch], device=device)
            with torch.autocast(
                device_type="cuda" if device.startswith("cuda") else "cpu",
                dtype=autocast_dtype or torch.float32,
                enabled=autocast_dtype is not None,
            ):
                image_features = _features(model.get_image_features(pixel_values=pixels))
                text_features = _features(model.get_text_features(**tokens))
                image_features = torch.nn.functional.normalize(image_features.float(), dim=-1)
                text_features = torch.nn.functional.normalize(text_features.float(), dim=-1)
                scale = model.logit_scale.exp().clamp(max=100.0)
                logits = scale * image_features @ text_features.T
                targets = torch.arange(len(batch), device=device)
                per_pair = (
                    torch.nn.functional.cross_entropy(logits, targets, reduction="none")
                    + torch.nn.functional.cross_entropy(logits.T, targets, reduction="none")
                ) / 2
                loss = (per_pair * weights).sum() / weights.sum()
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            losses.append(float(loss.detach()))
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            trained_seconds += time.perf_counter() - began
            trained_images += len(batch)
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
            if on_step:
                on_step(
                    StepProgress(
                        epoch=epoch,
                        epochs=config.epochs,
                        step=step,
                        steps=len(batches),
                        loss=losses[-1],
                        images_per_second=trained_images / trained_seconds,
                    )
                )
        bar.close()
        score, metrics = _score(tasks, clip)
        report.history.append(
            EpochRecord(
                epoch=epoch, loss=fmean(losses) if losses else None, score=score, metrics=metrics
            )
        )
        if score > best:
            best, stale, report.best_epoch = score, 0, epoch
            _save(output, model, tokenizer, processor)
        else:
            stale += 1
        _save(state_dir / "last", model, tokenizer, processor)
        torch.save(
            {
                "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict(),
                "history": [asdict(r) for r in report.history],
                "epoch": epoch,
                "best": best,
                "stale": stale,
                "best_epoch": report.best_epoch,
                "rng": rng.getstate(),
            },
            state_file,
        )
        if progress:
            progress(report.history[-1])
    clip.pool.shutdown()
    report.images_per_second = trained_images / trained_seconds if trained_seconds else 0.0
    report.revision = directory_content_hash(output)
    (state_dir / "report.json").write_text(json.dumps(asdict(report), indent=2), encoding="utf-8")
    return report
