"""Relevance evaluation: graded IR metrics, and a runner that asks the search service itself.

Metrics (one query at a time; ``ranking`` is the result list of document ids, best first;
``judgments`` the query's qrels, document id -> grade 0..3):

* ``ndcg_at_k``: DCG@k / ideal DCG@k with gain = grade and discount log2(rank + 1), the
  definition trec_eval's ``ndcg_cut`` uses (linear gain). The ideal ranking is the query's
  judged grades sorted high to low, so a relevant product missing from the results costs.
* ``reciprocal_rank``: 1 / rank of the first result graded ``>= min_grade``; 0 if none is in
  the list. The default ``min_grade=2`` ("a good answer": right category and colour or
  material, or exactly what was asked) because grade 1 (right category only) is met at rank 1
  by nearly any ranking, which would make MRR say nothing.
* ``recall_at_k``: share of the documents graded ``>= 1`` found in the first k.

A metric a query cannot have (no relevant document judged) is None for that query and left out
of the means, as trec_eval leaves out queries without relevant documents.

The runner sends every query through ``search.query.service.search`` as a shopper's query would go:
once per single leg (that leg's weight 1, the others 0) and once fused (the settings' weights
unless given), with limit 50, and maps results to document ids by product SKU.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean

from search.encoding.base import ModelUnavailable
from search.index import generations
from search.query.fusion import default_leg_weights
from search.query.service import search
from search.query.types import LEGS, SearchQuery
from search.vector_index import get_vector_index
from search.vector_index.base import SearchFilter

NDCG_K = 10
RECALL_KS = (10, 50)
MRR_MIN_GRADE = 2
RESULT_LIMIT = 50
METRICS = ("ndcg@10", "mrr", "recall@10", "recall@50", "top1")

Qrels = dict[str, dict[str, int]]


# --- Metrics -------------------------------------------------------------------------------------


def dcg(grades: Iterable[int]) -> float:
    return sum(
        grade / math.log2(rank + 1) for rank, grade in enumerate(grades, start=1) if grade > 0
    )


def ndcg_at_k(
    ranking: Sequence[str], judgments: Mapping[str, int], k: int = NDCG_K
) -> float | None:
    ideal = dcg(sorted((g for g in judgments.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return None
    return dcg(judgments.get(doc, 0) for doc in ranking[:k]) / ideal


def reciprocal_rank(
    ranking: Sequence[str], judgments: Mapping[str, int], min_grade: int = MRR_MIN_GRADE
) -> float | None:
    if not any(g >= min_grade for g in judgments.values()):
        return None
    for rank, doc in enumerate(ranking, start=1):
        if judgments.get(doc, 0) >= min_grade:
            return 1.0 / rank
    return 0.0


def recall_at_k(
    ranking: Sequence[str], judgments: Mapping[str, int], k: int, min_grade: int = 1
) -> float | None:
    relevant = {doc for doc, g in judgments.items() if g >= min_grade}
    if not relevant:
        return None
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def query_metrics(ranking: Sequence[str], judgments: Mapping[str, int]) -> dict[str, float | None]:
    return {
        "ndcg@10": ndcg_at_k(ranking, judgments, NDCG_K),
        "mrr": reciprocal_rank(ranking, judgments, MRR_MIN_GRADE),
        **{f"recall@{k}": recall_at_k(ranking, judgments, k) for k in RECALL_KS},
        "top1": best_first(ranking, judgments),
    }


def best_first(ranking: Sequence[str], judgments: Mapping[str, int]) -> float | None:
    """1 when the first result has the query's best grade (for an identifier query: it is that
    product), else 0."""
    best = max(judgments.values(), default=0)
    if best <= 0:
        return None
    return float(bool(ranking) and judgments.get(ranking[0], 0) == best)


def mean_metrics(per_query: Iterable[Mapping[str, float | None]]) -> dict[str, float | None]:
    rows = list(per_query)
    means: dict[str, float | None] = {}
    for name in METRICS:
        values = [row[name] for row in rows if row.get(name) is not None]
        means[name] = fmean(values) if values else None  # type: ignore[arg-type]
    return means


# --- Files ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    qid: str
    text: str
    type: str = ""


class RelevanceInputError(ValueError):
    pass


def read_queries(path: Path) -> list[Query]:
    """``qid<TAB>text[<TAB>type]`` lines; blank lines and lines starting with # are skipped."""
    queries = []
    seen = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
            raise RelevanceInputError(f"{path}:{number}: expected 'qid<TAB>query text[<TAB>type]'")
        qid = parts[0].strip()
        if qid in seen:
            raise RelevanceInputError(f"{path}:{number}: query id {qid!r} appears twice")
        seen.add(qid)
        queries.append(
            Query(qid=qid, text=parts[1].strip(), type=parts[2].strip() if len(parts) > 2 else "")
        )
    return queries


def read_qrels(path: Path) -> Qrels:
    """TREC qrels: ``qid iteration docid grade``, separated by tabs or spaces."""
    qrels: Qrels = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 4:
            raise RelevanceInputError(f"{path}:{number}: expected 'qid 0 docid grade'")
        qid, _, doc, grade = parts
        try:
            qrels.setdefault(qid, {})[doc] = int(grade)
        except ValueError:
            raise RelevanceInputError(
                f"{path}:{number}: the grade {grade!r} is not an integer"
            ) from None
    return qrels


def parse_weights(text: str) -> dict[str, float]:
    """``image=1,text=1,keywords=0.5`` -> weights; legs not named keep their settings weight."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        leg, sep, value = part.partition("=")
        leg = leg.strip()
        if not sep or leg not in LEGS:
            raise RelevanceInputError(
                f"bad weight {part!r}: use LEG=NUMBER with LEG one of {', '.join(LEGS)}"
            )
        try:
            weights[leg] = float(value)
        except ValueError:
            raise RelevanceInputError(f"bad weight {part!r}: {value!r} is not a number") from None
        if weights[leg] < 0:
            raise RelevanceInputError(f"bad weight {part!r}: weights are 0 (off) or more")
    return weights


# --- Runner --------------------------------------------------------------------------------------


@dataclass
class QueryResult:
    qid: str
    type: str
    text: str
    ranking: list[str]
    metrics: dict[str, float | None]
    legs: list[str]


@dataclass
class Run:
    name: str  # a leg, "fused", or "as-typed" (fused without query understanding)
    weights: dict[str, float]
    understanding: bool = True
    results: list[QueryResult] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, float | None]:
        return mean_metrics(result.metrics for result in self.results)

    def by_type(self) -> dict[str, dict[str, float | None]]:
        types = sorted({result.type for result in self.results})
        return {
            kind: {
                "queries": sum(1 for r in self.results if r.type == kind),
                **mean_metrics(r.metrics for r in self.results if r.type == kind),
            }
            for kind in types
        }


@dataclass
class Evaluation:
    queries: int
    judged: int  # queries with at least one relevant (grade >= 1) document
    runs: dict[str, Run]
    skipped: dict[str, str]  # leg -> why it was not evaluated
    notes: list[str]

    def as_dict(self) -> dict:
        return {
            "queries": self.queries,
            "judged_queries": self.judged,
            "metrics": {
                "ndcg@10": "graded, gain = grade, log2 discount, ideal from the qrels",
                "mrr": f"first result with grade >= {MRR_MIN_GRADE}",
                "recall@k": "documents with grade >= 1 found in the first k",
            },
            "skipped": self.skipped,
            "notes": self.notes,
            "runs": {
                name: {
                    "weights": run.weights,
                    "summary": run.summary,
                    "by_type": run.by_type(),
                    "queries": {
                        r.qid: {
                            "type": r.type,
                            "text": r.text,
                            **r.metrics,
                            "legs": r.legs,
                            "top10": r.ranking[:10],
                        }
                        for r in run.results
                    },
                }
                for name, run in self.runs.items()
            },
        }


class EvaluationError(RuntimeError):
    pass


def image_leg_unavailable() -> str | None:
    """Why the image leg cannot run here (None when it can): the CLIP model that built the live
    image collection does not load, or no image is indexed."""
    index = get_vector_index()
    try:
        collection, encoder = generations.live_image_encoder_if_any(index)
        encoder.load()
    except ModelUnavailable as exc:
        return f"the CLIP model is not available: {exc}"
    if collection is None or index.count(collection, SearchFilter()) == 0:
        return "no product image is indexed (load the catalogue with its images and index them)"
    return None


def _check_products_indexed() -> None:
    index = get_vector_index()
    collection = generations.resolve(generations.products_alias(), index, fresh=True)
    if collection is None or index.count(collection, SearchFilter()) == 0:
        raise EvaluationError(
            "No product is indexed: load a catalogue first (manage.py load_relevance_devset) "
            "or rebuild the index (manage.py reindex)."
        )


def evaluate(
    queries: Sequence[Query],
    qrels: Qrels,
    *,
    legs: Sequence[str] = LEGS,
    fused_weights: Mapping[str, float] | None = None,
    search_filter: SearchFilter | None = None,
    limit: int = RESULT_LIMIT,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Each single leg of ``legs`` alone, then all legs fused with ``fused_weights`` (default:
    the settings' weights, the ones shoppers get)."""
    unknown = set(legs) - set(LEGS)
    if unknown:
        raise EvaluationError(
            f"unknown leg(s) {', '.join(sorted(unknown))}: choose from {', '.join(LEGS)}"
        )
    _check_products_indexed()
    search_filter = search_filter or SearchFilter()
    skipped: dict[str, str] = {}
    notes: list[str] = []
    fused = {**default_leg_weights(), **(fused_weights or {})}
    wants_image = "image" in legs or fused.get("image", 0) > 0
    image_problem = image_leg_unavailable() if wants_image else None
    if image_problem and fused.get("image", 0) > 0:
        # What search itself does without CLIP: the text legs answer alone. Said here once
        # rather than tried (and warned about) on every query.
        reason = "" if "image" in legs else f": {image_problem}"
        notes.append(
            f"fused runs without the image leg (weight {fused['image']:g}), which is unavailable{reason}"
        )
        fused["image"] = 0.0
    runs: list[Run] = []
    for leg in legs:
        if leg == "image" and image_problem:
            skipped["image"] = image_problem
            continue
        runs.append(Run(name=leg, weights={name: 1.0 if name == leg else 0.0 for name in LEGS}))
    if not any(weight > 0 for weight in fused.values()):
        raise EvaluationError("every fused weight is 0: nothing to evaluate")
    runs.append(Run(name="fused", weights=fused))
    # The same fusion with the words sent to the legs as typed: what query understanding
    # (identifiers, corrections, recognised names) adds, measured in the same run.
    runs.append(Run(name="as-typed", weights=fused, understanding=False))

    judged = [query for query in queries if any(g > 0 for g in qrels.get(query.qid, {}).values())]
    for run in runs:
        if progress:
            progress(f"{run.name}: {len(judged)} queries")
        for query in judged:
            outcome = search(
                SearchQuery(
                    text=query.text,
                    leg_weights=run.weights,
                    limit=limit,
                    filter=search_filter,
                    understand=run.understanding,
                )
            )
            if run.name == "image" and outcome.notices:
                raise EvaluationError(
                    f"the image leg stopped answering: {' '.join(outcome.notices)}"
                )
            ranking = [item.product.sku for item in outcome.items if item.product is not None]
            run.results.append(
                QueryResult(
                    qid=query.qid,
                    type=query.type or "-",
                    text=query.text,
                    ranking=ranking,
                    metrics=query_metrics(ranking, qrels[query.qid]),
                    legs=outcome.legs,
                )
            )
    unjudged = len(queries) - len(judged)
    if unjudged:
        notes.append(
            f"{unjudged} quer{'y' if unjudged == 1 else 'ies'} without a relevant document in the qrels left out"
        )
    return Evaluation(
        queries=len(queries),
        judged=len(judged),
        runs={run.name: run for run in runs},
        skipped=skipped,
        notes=notes,
    )


# --- Report --------------------------------------------------------------------------------------


def _number(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def _weights_label(weights: Mapping[str, float]) -> str:
    return " ".join(f"{leg}={weights.get(leg, 0):g}" for leg in LEGS)


def format_table(evaluation: Evaluation) -> str:
    lines = [
        f"Relevance: {evaluation.judged} judged queries of {evaluation.queries}; "
        f"MRR counts the first result graded >= {MRR_MIN_GRADE}, recall counts grade >= 1.",
    ]
    for leg, reason in evaluation.skipped.items():
        lines.append(f"{leg} leg unavailable, not evaluated: {reason}")
    lines.extend(f"note: {note}" for note in evaluation.notes)
    lines.append("")
    header = f"{'run':<10} {'nDCG@10':>8} {'MRR':>8} {'R@10':>8} {'R@50':>8}  weights"
    lines += [header, "-" * len(header)]
    for run in evaluation.runs.values():  # as-typed: fused, query understanding off
        s = run.summary
        lines.append(
            f"{run.name:<10} {_number(s['ndcg@10']):>8} {_number(s['mrr']):>8} "
            f"{_number(s['recall@10']):>8} {_number(s['recall@50']):>8}  {_weights_label(run.weights)}"
        )

    fused = evaluation.runs["fused"]
    lines += ["", "fused, by query type"]
    header = (
        f"{'type':<18} {'n':>4} {'nDCG@10':>8} {'MRR':>8} {'R@10':>8} {'R@50':>8} {'best@1':>8}"
    )
    lines += [header, "-" * len(header)]
    for kind, row in fused.by_type().items():
        lines.append(
            f"{kind:<18} {row['queries']:>4} {_number(row['ndcg@10']):>8} {_number(row['mrr']):>8} "
            f"{_number(row['recall@10']):>8} {_number(row['recall@50']):>8} "
            f"{_number(row['top1']):>8}"
        )

    if len(evaluation.runs) > 1:
        names = list(evaluation.runs)
        lines += ["", "nDCG@10 by query type and run"]
        header = f"{'type':<18} " + " ".join(f"{name:>9}" for name in names)
        lines += [header, "-" * len(header)]
        tables = {name: run.by_type() for name, run in evaluation.runs.items()}
        for kind in fused.by_type():
            lines.append(
                f"{kind:<18} "
                + " ".join(f"{_number(tables[name][kind]['ndcg@10']):>9}" for name in names)
            )
    return "\n".join(lines)
