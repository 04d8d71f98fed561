"""The settings step merchandising fills (search/query/settings_step.py): the shop's search
settings for every search, and the running experiment's variant for the visitor.

Order: the request's own values first (a client that sends ``weights`` keeps them), then the
visitor's variant where it says something, then the shop's settings, then the server's
environment (what the search service falls back to). Re-ranking is the exception: a variant's
or the shop's "always"/"never" overrides the request's ``rerank`` (a test of re-ranking must
decide it), and a re-rank the settings switch on is not held to the per-client rerank
throttle, which guards against clients asking for it (RERANK_TOP_N and RERANK_TIMEOUT_MS
still bound it). A visitor without an id gets the control
variant's settings but is not counted in the experiment: without an id their clicks cannot be
told from another visitor's, and they would all land in one arm.

Both are read from the database at most every MERCHANDISING_RULES_REFRESH_MS per process (two
small queries), so a start, an end or a settings change applies in every server process
within that interval, as rules do (cache.py).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

from django.conf import settings

from merchandising.experiments.assignment import assign
from search.query.settings_step import Adjustment, ExperimentTag

# Searches an experiment splits: the ones a shopper types or photographs. More-like-this and
# shop-the-look keep the shop's settings.
EXPERIMENT_KINDS = frozenset({"text", "photo", "hybrid"})


@dataclass(frozen=True)
class Settings:
    """What one layer says; None (or "") leaves it to the layer below."""

    leg_weights: tuple[tuple[str, float], ...] = ()
    rrf_k: int | None = None
    rerank: bool | None = None
    rules: bool = True
    image_collection: str = ""

    @classmethod
    def of(cls, row) -> Settings:
        return cls(
            leg_weights=tuple(row.leg_weights().items()),
            rrf_k=row.rrf_k,
            rerank={"on": True, "off": False}.get(row.rerank),
            rules=row.rules,
            image_collection=row.image_collection,
        )


@dataclass(frozen=True)
class ArmSnapshot:
    name: str
    share: int
    settings: Settings


@dataclass(frozen=True)
class ExperimentSnapshot:
    id: int
    name: str
    variants: tuple[ArmSnapshot, ...]  # control first


@dataclass(frozen=True)
class Snapshot:
    shop: Settings = Settings()
    experiment: ExperimentSnapshot | None = None


_lock = threading.Lock()
_state: dict = {"snapshot": Snapshot(), "checked": float("-inf")}


def _load() -> Snapshot:
    from merchandising.experiments.models import Experiment, SearchSettings

    shop_row = SearchSettings.objects.filter(pk=1).first()
    running = (
        Experiment.objects.filter(status=Experiment.Status.RUNNING)
        .prefetch_related("variants")
        .first()
    )
    experiment = None
    if running is not None:
        arms = tuple(
            ArmSnapshot(variant.name, variant.share, Settings.of(variant))
            for variant in sorted(running.variants.all(), key=lambda v: (v.position, v.pk))
        )
        if arms:
            experiment = ExperimentSnapshot(running.pk, running.name, arms)
    return Snapshot(
        shop=Settings.of(shop_row) if shop_row is not None else Settings(),
        experiment=experiment,
    )


def current() -> Snapshot:
    now = time.monotonic()
    if (now - _state["checked"]) * 1000 < settings.MERCHANDISING_RULES_REFRESH_MS:
        return _state["snapshot"]
    with _lock:
        if (time.monotonic() - _state["checked"]) * 1000 < settings.MERCHANDISING_RULES_REFRESH_MS:
            return _state["snapshot"]
        _state["snapshot"] = _load()
        _state["checked"] = time.monotonic()
    return _state["snapshot"]


def forget() -> None:
    """Reload on the next search (after a write in this process; tests)."""
    with _lock:
        _state.update(snapshot=Snapshot(), checked=float("-inf"))


def _with(adjustment: Adjustment, layer: Settings) -> Adjustment:
    query = adjustment.query
    weights = {**dict(layer.leg_weights), **(query.leg_weights or {})}
    query = replace(
        query,
        leg_weights=weights or None,
        rrf_k=query.rrf_k if query.rrf_k is not None else layer.rrf_k,
        rules=query.rules and layer.rules,
        image_collection=query.image_collection or layer.image_collection or None,
    )
    rerank = adjustment.rerank if adjustment.rerank is not None else layer.rerank
    return replace(adjustment, query=query, rerank=rerank)


def adjust(adjustment: Adjustment, visitor_id: str) -> Adjustment:
    snapshot = current()
    experiment = snapshot.experiment
    if experiment is not None and adjustment.query.kind in EXPERIMENT_KINDS:
        arm = assign(experiment.id, visitor_id, experiment.variants)
        adjustment = _with(adjustment, arm.settings)
        if visitor_id:
            adjustment = replace(
                adjustment, experiment=ExperimentTag(experiment.id, experiment.name, arm.name)
            )
    return _with(adjustment, snapshot.shop)
