"""Image search quality: image -> product and text -> image retrieval, measured with CLIP vectors.

A *task* is a set of queries (photos or texts, each with graded judgments over products) and a
*gallery* (the catalogue images the rankings are built from). A model is run on a task by
encoding the gallery and the queries, scoring each product by its best image (cosine, as the
image leg groups results by product) and ranking the products, best first. Everything happens
in memory: no collection is written, nothing live is touched. A catalogue image whose vector
the model already stored (same bytes, same model key) is not encoded again.

Metrics per query reuse search/relevance/evaluate.py's definitions with the query's *top grade*
as the bar for "found" (for a photo: its product; for a title: that very product):

* ``recall@k`` (k = 1, 5, 10): share of the top-grade products in the first k;
* ``mrr``: 1 / rank of the first top-grade product (0 past rank ``RANK_DEPTH``);
* ``ndcg@10``: graded, every judged grade counts (category and brand neighbours earn part).

Two models on the same task are compared query by query with the Wilcoxon signed-rank test
(SciPy), the paired test trec tools use for per-query metric differences.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Protocol

import numpy as np

from search.relevance.evaluate import ndcg_at_k, recall_at_k, reciprocal_rank

logger = logging.getLogger(__name__)

RECALL_KS = (1, 5, 10)
CURVE_KS = (1, 2, 3, 5, 10, 20, 50, 100)
RANK_DEPTH = max(CURVE_KS)
METRICS = ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10")
HEADLINE = ("recall@10", "ndcg@10")  # what the switch gate compares
IMAGE_TASK = "image->product"
TEXT_TASK = "text->image"

Loader = Callable[[], bytes]


class VisualInputError(ValueError):
    """Labels or queries that cannot be evaluated (unknown SKU, unreadable file, empty set)."""


@dataclass(frozen=True)
class GalleryImage:
    doc: str  # the product it shows
    loader: Loader
    image_id: int | None = None  # a catalogue image: its stored vector may be reused
    sha256: str = ""


@dataclass(frozen=True)
class VisualQuery:
    qid: str
    judgments: Mapping[str, int]  # product -> grade (> 0)
    category: str = ""
    text: str = ""  # a text query, or
    image: GalleryImage | None = None  # a photo query


@dataclass
class Task:
    name: str
    queries: list[VisualQuery]
    gallery: list[GalleryImage]
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "text" if self.queries and self.queries[0].image is None else "image"


class Encoder(Protocol):
    """What a task needs of a model: the ClipEncoder, or a model in training."""

    @property
    def model_key(self) -> str: ...

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_image_stream(
        self, items: Iterable[tuple[int, Loader]], batch_size: int | None = None
    ) -> Iterable[tuple[int, object]]: ...


# --- Vectors -------------------------------------------------------------------------------------


def stored_vectors(model_key: str, images: Sequence[GalleryImage]) -> dict[int, np.ndarray]:
    """Vectors this model already computed for these catalogue images (same bytes)."""
    from search.models import ImageEmbedding

    wanted = {image.image_id: image.sha256 for image in images if image.image_id is not None}
    found: dict[int, np.ndarray] = {}
    ids = list(wanted)
    for start in range(0, len(ids), 2000):
        rows = ImageEmbedding.objects.filter(
            image_id__in=ids[start : start + 2000], model_key=model_key
        ).only("image_id", "sha256", "vector")
        for row in rows:
            if row.sha256 == wanted[row.image_id]:
                found[row.image_id] = row.as_array()
    return found


def image_vectors(
    encoder: Encoder, images: Sequence[GalleryImage], *, reuse_stored: bool = True
) -> tuple[np.ndarray, list[int]]:
    """Unit vectors of ``images`` in order, and the positions of those that could not be
    decoded (left out of the evaluation)."""
    reused = stored_vectors(encoder.model_key, images) if reuse_stored else {}
    rows: dict[int, np.ndarray] = {}
    todo = []
    for position, image in enumerate(images):
        vector = reused.get(image.image_id) if image.image_id is not None else None
        if vector is not None:
            rows[position] = vector
        else:
            todo.append((position, image.loader))
    unreadable = []
    for position, result in encoder.encode_image_stream(todo) if todo else ():
        if isinstance(result, np.ndarray):
            rows[position] = result
        else:
            unreadable.append(position)
    dim = next(iter(rows.values())).shape[-1] if rows else 0
    matrix = np.zeros((len(images), dim), dtype=np.float32)
    for position, vector in rows.items():
        matrix[position] = vector
    return matrix, unreadable


# --- Running a task ------------------------------------------------------------------------------


@dataclass
class QueryOutcome:
    qid: str
    category: str
    metrics: dict[str, float | None]
    ranking: list[str]  # products, best first, RANK_DEPTH at most
    judgments: Mapping[str, int]


@dataclass
class TaskRun:
    task: str
    model: str
    outcomes: list[QueryOutcome]
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, float | None]:
        return mean_metrics(o.metrics for o in self.outcomes)

    def by_category(self) -> dict[str, dict[str, float | None]]:
        categories = sorted({o.category for o in self.outcomes})
        return {
            category: {
                "queries": float(sum(1 for o in self.outcomes if o.category == category)),
                **mean_metrics(o.metrics for o in self.outcomes if o.category == category),
            }
            for category in categories
        }

    def recall_curve(self) -> dict[int, float | None]:
        """Mean recall@k of the top-grade products for each k of CURVE_KS."""
        curve: dict[int, float | None] = {}
        for k in CURVE_KS:
            values = [
                value
                for o in self.outcomes
                if (value := recall_at_k(o.ranking, o.judgments, k, _top(o.judgments))) is not None
            ]
            curve[k] = fmean(values) if values else None
        return curve


def mean_metrics(rows: Iterable[Mapping[str, float | None]]) -> dict[str, float | None]:
    rows = list(rows)
    means: dict[str, float | None] = {}
    for name in METRICS:
        values = [value for row in rows if (value := row.get(name)) is not None]
        means[name] = fmean(values) if values else None
    return means


def _top(judgments: Mapping[str, int]) -> int:
    return max(judgments.values(), default=0)


def query_metrics(ranking: Sequence[str], judgments: Mapping[str, int]) -> dict[str, float | None]:
    top = _top(judgments)
    if top <= 0:
        return dict.fromkeys(METRICS)
    return {
        **{f"recall@{k}": recall_at_k(ranking, judgments, k, top) for k in RECALL_KS},
        "mrr": reciprocal_rank(ranking, judgments, top),
        "ndcg@10": ndcg_at_k(ranking, judgments, 10),
    }


def rank_products(
    queries: np.ndarray, gallery: np.ndarray, docs: Sequence[str], depth: int = RANK_DEPTH
) -> list[list[str]]:
    """For each query vector, the products ranked by their best image's cosine similarity;
    ties keep the gallery's product order."""
    if not len(docs) or not len(queries):
        return [[] for _ in range(len(queries))]
    order = sorted(range(len(docs)), key=lambda i: docs[i])
    products = sorted(set(docs))
    # Images grouped by product, so one reduceat gives every product's best score.
    first: dict[str, int] = {}
    for position, index in enumerate(order):
        first.setdefault(docs[index], position)
    starts = np.array([first[p] for p in products])
    grouped = gallery[order]
    rankings = []
    for start in range(0, len(queries), 256):
        scores = queries[start : start + 256] @ grouped.T
        best = np.maximum.reduceat(scores, starts, axis=1)
        top = np.argsort(-best, axis=1, kind="stable")[:, :depth]
        rankings.extend([[products[j] for j in row] for row in top])
    return rankings


def run_task(
    task: Task,
    encoder: Encoder,
    *,
    label: str = "",
    reuse_stored: bool = True,
) -> TaskRun:
    label = label or encoder.model_key
    gallery_matrix, bad = image_vectors(encoder, task.gallery, reuse_stored=reuse_stored)
    notes = []
    if bad:
        notes.append(f"{len(bad)} gallery image(s) could not be decoded and were left out")
    keep = [i for i in range(len(task.gallery)) if i not in set(bad)]
    gallery_matrix = gallery_matrix[keep]
    docs = [task.gallery[i].doc for i in keep]
    queries = task.queries
    if task.kind == "text":
        query_matrix = encoder.encode_texts([q.text for q in queries])
    else:
        photos = [q.image for q in queries if q.image is not None]
        query_matrix, bad_queries = image_vectors(encoder, photos, reuse_stored=reuse_stored)
        if bad_queries:
            notes.append(f"{len(bad_queries)} query photo(s) could not be decoded: left out")
            dropped = set(bad_queries)
            queries = [q for i, q in enumerate(queries) if i not in dropped]
            query_matrix = np.delete(query_matrix, list(dropped), axis=0)
    rankings = rank_products(query_matrix, gallery_matrix, docs)
    outcomes = [
        QueryOutcome(
            qid=query.qid,
            category=query.category or "-",
            metrics=query_metrics(ranking, query.judgments),
            ranking=ranking,
            judgments=query.judgments,
        )
        for query, ranking in zip(queries, rankings, strict=True)
    ]
    return TaskRun(task=task.name, model=label, outcomes=outcomes, notes=notes)


# --- Two models side by side ---------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    metric: str
    live: float | None
    candidate: float | None
    delta: float | None
    p_value: float | None  # Wilcoxon signed-rank, two-sided; None when untestable
    pairs: int


def compare(live: TaskRun, candidate: TaskRun) -> list[Difference]:
    """Per metric: the two means, their difference and the paired test's p-value."""
    from scipy.stats import wilcoxon

    theirs = {o.qid: o.metrics for o in candidate.outcomes}
    differences = []
    for metric in METRICS:
        pairs = [
            (a, b)
            for o in live.outcomes
            if (a := o.metrics.get(metric)) is not None
            and (b := theirs.get(o.qid, {}).get(metric)) is not None
        ]
        live_mean = fmean(a for a, _ in pairs) if pairs else None
        candidate_mean = fmean(b for _, b in pairs) if pairs else None
        deltas = [b - a for a, b in pairs]
        p_value: float | None = None
        if any(deltas):
            try:
                p_value = float(wilcoxon(deltas, zero_method="wilcox").pvalue)
            except ValueError:  # too few non-zero differences
                p_value = None
        elif pairs:
            p_value = 1.0  # the same figure for every query: no difference at all
        differences.append(
            Difference(
                metric=metric,
                live=live_mean,
                candidate=candidate_mean,
                delta=None if live_mean is None else candidate_mean - live_mean,  # type: ignore[operator]
                p_value=p_value,
                pairs=len(pairs),
            )
        )
    return differences


def run_as_dict(run: TaskRun, *, queries: bool = True) -> dict:
    out: dict = {
        "model": run.model,
        "queries": len(run.outcomes),
        "summary": run.summary,
        "by_category": run.by_category(),
        "recall_curve": {str(k): v for k, v in run.recall_curve().items()},
        "notes": run.notes,
    }
    if queries:
        out["per_query"] = {
            o.qid: {"category": o.category, **o.metrics, "top10": o.ranking[:10]}
            for o in run.outcomes
        }
    return out


def difference_as_dict(difference: Difference) -> dict:
    return {
        "live": difference.live,
        "candidate": difference.candidate,
        "delta": difference.delta,
        "p_value": difference.p_value,
        "pairs": difference.pairs,
    }


# --- A whole evaluation ----------------------------------------------------------------------------


@dataclass
class VisualEvaluation:
    models: dict[str, str]  # label ("live", "candidate") -> model name and revision
    tasks: list[Task]
    runs: dict[str, dict[str, TaskRun]]  # task -> label -> run
    comparisons: dict[str, list[Difference]]  # task -> candidate vs live

    def as_dict(self, *, queries: bool = True) -> dict:
        return {
            "models": self.models,
            "metrics": {
                "recall@k": "share of the query's top-grade products in the first k",
                "mrr": f"1 / rank of the first top-grade product (0 past rank {RANK_DEPTH})",
                "ndcg@10": "graded, gain = grade, log2 discount, ideal from the judgments",
                "p_value": "Wilcoxon signed-rank test on the per-query differences (two-sided)",
            },
            "tasks": {
                task.name: {
                    "queries": len(task.queries),
                    "gallery_images": len(task.gallery),
                    "gallery_products": len({image.doc for image in task.gallery}),
                    "notes": task.notes,
                    "runs": {
                        label: run_as_dict(run, queries=queries)
                        for label, run in self.runs.get(task.name, {}).items()
                    },
                    "comparison": {
                        d.metric: difference_as_dict(d) for d in self.comparisons.get(task.name, [])
                    },
                }
                for task in self.tasks
            },
        }


def evaluate_models(
    tasks: Sequence[Task],
    encoders: Mapping[str, Encoder],
    *,
    names: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> VisualEvaluation:
    """Every task with every model; the second model compared with the first."""
    runs: dict[str, dict[str, TaskRun]] = {}
    comparisons: dict[str, list[Difference]] = {}
    labels = list(encoders)
    for task in tasks:
        for label, encoder in encoders.items():
            if progress:
                progress(f"{task.name}: {label} on {len(task.queries)} queries")
            runs.setdefault(task.name, {})[label] = run_task(task, encoder, label=label)
        if len(labels) > 1:
            comparisons[task.name] = compare(runs[task.name][labels[0]], runs[task.name][labels[1]])
    return VisualEvaluation(
        models=dict(names or {label: label for label in labels}),
        tasks=list(tasks),
        runs=runs,
        comparisons=comparisons,
    )
