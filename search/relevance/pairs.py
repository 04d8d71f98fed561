"""Clicked query -> product pairs for fine-tuning (`finetune_clip --pairs FILE`).

The file is what `manage.py export_click_pairs` writes (analytics/click_pairs.py): a CSV with
a header naming at least ``query`` and ``sku`` (``merchant`` when several merchants share the
catalogue, ``weight`` optional, default 1). Search cannot read the analytics tables itself
(analytics sits above search), so the file is the hand-over.

Pairs of held-out products (visual_sets.is_held_out, the same share the evaluation and the
switch gate hold out) are never trained on: they become an evaluation task of their own,
``clicks->image``, the shoppers' own words finding the product they clicked, which says more
about shoppers' queries than titles do. A query's held-out products are its top grade there;
the products it was also clicked on in training count in nDCG only.

Weights are made relative: divided by their mean (so a pair weighs as much as an image-title
pair on average) and capped at ``WEIGHT_CAP``, so that a few very popular queries do not drown
out the rest of the catalogue.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

from search.relevance.visual import VisualInputError, VisualQuery
from search.relevance.visual_sets import Catalogue, is_held_out

CLICK_TASK = "clicks->image"
WEIGHT_CAP = 5.0
GRADE_HELD_OUT = 2
GRADE_TRAINED = 1


@dataclass(frozen=True)
class QueryPair:
    doc: str  # the product (Catalogue.doc)
    text: str
    weight: float


@dataclass
class PairSet:
    training: list[QueryPair]
    evaluation: list[VisualQuery]
    rows: int = 0
    unknown: int = 0  # rows whose product is not (or no longer) in the catalogue with an image

    def describe(self) -> str:
        return (
            f"{self.rows} click pair(s): {len(self.training)} to train on, "
            f"{len(self.evaluation)} held-out quer(y/ies) to evaluate on"
            + (
                f", {self.unknown} of products not in the catalogue left out"
                if self.unknown
                else ""
            )
        )


def _rows(path: Path) -> list[tuple[str, str, str, float, str]]:
    """(query, merchant, sku, weight, where) of each row."""
    if not path.is_file():
        raise VisualInputError(f"no pairs file at {path}")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = {name.strip().lower() for name in reader.fieldnames or []}
        if not {"query", "sku"} <= fields:
            raise VisualInputError(
                f"{path}: the header must name the columns query and sku (and merchant, weight)"
            )
        rows = []
        for number, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            where = f"{path}:{number}"
            if not row.get("query") or not row.get("sku"):
                raise VisualInputError(f"{where}: a pair needs a query and a sku")
            try:
                weight = float(row.get("weight") or 1.0)
            except ValueError:
                raise VisualInputError(
                    f"{where}: the weight {row['weight']!r} is not a number"
                ) from None
            if not weight > 0 or weight == float("inf"):
                raise VisualInputError(f"{where}: the weight must be a positive number")
            rows.append((row["query"], row.get("merchant", ""), row["sku"], weight, where))
    return rows


def read_pairs(path: Path, catalogue: Catalogue, held_out_share: float) -> PairSet:
    rows = _rows(path)
    pairs: list[QueryPair] = []
    unknown = 0
    for query, merchant, sku, weight, where in rows:
        doc = catalogue.doc(merchant, sku) if merchant else catalogue.resolve_sku(sku, where)
        if doc is None or not catalogue.images.get(doc):
            unknown += 1
            continue
        pairs.append(QueryPair(doc=doc, text=query, weight=weight))
    held = {
        doc
        for doc in {p.doc for p in pairs}
        if is_held_out(*catalogue.held_out_key[doc], held_out_share)
    }
    training = [p for p in pairs if p.doc not in held]
    if training:
        mean = fmean(p.weight for p in training)
        training = [
            QueryPair(doc=p.doc, text=p.text, weight=min(WEIGHT_CAP, p.weight / mean))
            for p in training
        ]
    judgments: dict[str, dict[str, int]] = {}
    for pair in pairs:
        grade = GRADE_HELD_OUT if pair.doc in held else GRADE_TRAINED
        graded = judgments.setdefault(pair.text, {})
        graded[pair.doc] = max(grade, graded.get(pair.doc, 0))
    evaluation = [
        VisualQuery(
            qid=f"click:{number}",
            text=text,
            judgments=graded,
            category=catalogue.categories[max(graded, key=lambda d: graded[d])],
        )
        for number, (text, graded) in enumerate(sorted(judgments.items()), start=1)
        if GRADE_HELD_OUT in graded.values()
    ]
    return PairSet(training=training, evaluation=evaluation, rows=len(rows), unknown=unknown)
