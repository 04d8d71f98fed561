"""Fine-tuning runs: recorded, run here or on a GPU worker, their progress written as they go.

`finetune_clip` creates a FinetuneRun row. On a CPU it executes the run in its own process;
when the device is CUDA (FINETUNE_DEVICE, else CLIP_DEVICE) or a queue is named, it sends
``finetune_run_requested`` after the commit and workers/receivers.py enqueues the Celery task on
that queue (search cannot import workers: the signal is the seam, as catalog's are). Either way
the same ``finetune_run_execute`` trains and keeps the row up to date, so the admin
(Search > Fine-tuning runs) and `finetune_clip --status` show a run wherever it trains.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from search.models import FinetuneRun
from search.relevance import finetune as tuning
from search.relevance.pairs import read_pairs
from search.relevance.visual import VisualInputError
from search.relevance.visual_sets import Catalogue

logger = logging.getLogger(__name__)

# Sent after the commit of a run to be trained elsewhere: run_id, queue.
finetune_run_requested = Signal()


def finetune_device(asked: str = "") -> str:
    return asked or settings.FINETUNE_DEVICE or settings.CLIP_DEVICE


def finetune_queue(*, device: str, queue: str = "", local: bool = False) -> str:
    """Where a run goes: a queue name, or "" to run in this process. A CUDA device sends it to
    the GPU workers' queue: the process that starts it (an operator's shell, the web host) is
    seldom the one with the GPU."""
    if queue:
        return queue
    if local or not device.startswith("cuda"):
        return ""
    return settings.FINETUNE_QUEUE


@transaction.atomic
def finetune_run_create(
    *,
    source: str,
    revision: str,
    output: Path,
    config: tuning.FinetuneConfig,
    pairs_file: Path | None = None,
    merchant_slug: str = "",
    restart: bool = False,
    queue: str = "",
) -> FinetuneRun:
    run = FinetuneRun(
        model_name=source,
        model_revision=revision,
        output=str(output),
        pairs_file=str(pairs_file or ""),
        merchant_slug=merchant_slug,
        config=asdict(config),
        restart=restart,
        queue=queue,
    )
    run.full_clean()
    run.save()
    return run


def finetune_run_enqueue(*, run: FinetuneRun) -> FinetuneRun:
    """Hand a queued run to the workers of its queue (after the commit that made it). A broker
    that does not take it fails the run, with the reason, rather than leave it queued forever."""

    def send() -> None:
        try:
            finetune_run_requested.send(sender=FinetuneRun, run_id=run.pk, queue=run.queue)
        except Exception as exc:  # noqa: BLE001 - any broker failure, said on the run
            _fail(run.pk, f"could not queue the run on {run.queue!r}: {exc}")

    transaction.on_commit(send)
    run.refresh_from_db()
    return run


def _history(records: list[tuning.EpochRecord]) -> list[dict[str, Any]]:
    return [asdict(record) for record in records]


class _ProgressWriter:
    """Writes a run's progress to its row: every epoch, and steps at most every few seconds
    (a row update per batch would be a write per fraction of a second on a GPU)."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.history: list[tuning.EpochRecord] = []
        self.last_write = 0.0

    def step(self, progress: tuning.StepProgress) -> None:
        now = time.monotonic()
        if now - self.last_write < settings.FINETUNE_PROGRESS_SECONDS:
            return
        self.last_write = now
        FinetuneRun.objects.filter(pk=self.run_id).update(
            epoch=progress.epoch,
            step=progress.step,
            steps=progress.steps,
            loss=progress.loss,
            images_per_second=progress.images_per_second,
            updated_at=timezone.now(),
        )

    def epoch(self, record: tuning.EpochRecord) -> None:
        self.history.append(record)
        best = max(self.history, key=lambda r: r.score)
        FinetuneRun.objects.filter(pk=self.run_id).update(
            epoch=record.epoch,
            history=_history(self.history),
            best_epoch=best.epoch,
            updated_at=timezone.now(),
        )


def _fail(run_id: int, error: str) -> FinetuneRun:
    # Only a run that has not finished: a late broker error must not undo a success.
    FinetuneRun.objects.filter(
        pk=run_id, status__in=[FinetuneRun.Status.QUEUED, FinetuneRun.Status.RUNNING]
    ).update(
        status=FinetuneRun.Status.FAILED,
        error=error,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    return FinetuneRun.objects.get(pk=run_id)


def finetune_run_execute(
    *, run_id: int, show_bar: bool = False, on_epoch: Any = None
) -> FinetuneRun | None:
    """Train the queued run ``run_id``; None when it is gone. A run that another worker has
    taken, or that has finished, is left alone (a duplicate message trains nothing)."""
    claimed = FinetuneRun.objects.filter(pk=run_id, status=FinetuneRun.Status.QUEUED).update(
        status=FinetuneRun.Status.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    run = FinetuneRun.objects.filter(pk=run_id).first()
    if run is None:
        logger.info("fine-tuning run %s is gone; nothing to do", run_id)
        return None
    if not claimed:
        logger.info("fine-tuning run %s is %s already; not run again", run_id, run.status)
        return run
    writer = _ProgressWriter(run_id)

    def epoch(record: tuning.EpochRecord) -> None:
        writer.epoch(record)
        if on_epoch:
            on_epoch(record)

    try:
        catalogue = Catalogue.from_database(run.merchant_slug)
        config = tuning.FinetuneConfig(**run.config)
        pairs = (
            read_pairs(Path(run.pairs_file), catalogue, config.held_out_share)
            if run.pairs_file
            else None
        )
        notes = f"{len(catalogue.titles)} catalogue product(s)" + (
            f"; {pairs.describe()}" if pairs else ""
        )
        FinetuneRun.objects.filter(pk=run_id).update(notes=notes)
        logger.info("fine-tuning run %s: %s", run_id, notes)
        report = tuning.finetune(
            source=run.model_name,
            revision=run.model_revision or None,
            output=Path(run.output),
            catalogue=catalogue,
            config=config,
            resume=not run.restart,
            progress=epoch,
            show_bar=show_bar,
            pairs=pairs,
            on_step=writer.step,
        )
    except (tuning.FinetuneError, VisualInputError) as exc:
        return _fail(run_id, str(exc))
    except BaseException as exc:
        # A time limit, an out-of-memory, a bug: recorded for the admin, then raised for the
        # worker's log. The finished epochs are kept: starting the run again resumes.
        _fail(run_id, f"{type(exc).__name__}: {exc}; start it again to resume")
        raise
    FinetuneRun.objects.filter(pk=run_id).update(
        status=FinetuneRun.Status.SUCCEEDED,
        device=report.device,
        precision=report.precision,
        history=_history(report.history),
        best_epoch=report.best_epoch,
        images_per_second=report.images_per_second,
        revision=report.revision,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    return FinetuneRun.objects.get(pk=run_id)


def finetune_run_describe(run: FinetuneRun) -> str:
    """One line: where the run stands."""
    config = run.config or {}
    parts = [run.status]
    if run.status == FinetuneRun.Status.RUNNING:
        parts.append(f"epoch {run.epoch}/{config.get('epochs', '?')}")
        if run.steps:
            parts.append(f"step {run.step}/{run.steps}")
    if run.loss is not None and run.status == FinetuneRun.Status.RUNNING:
        parts.append(f"loss {run.loss:.4f}")
    if run.history:
        start = run.history[0]["score"]
        best = max(run.history, key=lambda r: r["score"])
        parts.append(f"held-out score {start:.4f} -> {best['score']:.4f} (epoch {best['epoch']})")
    if run.images_per_second:
        parts.append(f"{run.images_per_second:.1f} images/s")
    if run.device or run.precision:
        parts.append(", ".join(x for x in (run.device, run.precision) if x))
    if run.error:
        parts.append(run.error)
    return "; ".join(parts)
