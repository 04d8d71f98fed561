"""The gate on a model switch: the candidate against the live model on the catalogue's held-out
splits (search/relevance/visual_sets.py), before ``reindex --model`` moves the alias.

It refuses when the candidate's recall@10 or nDCG@10 on any split is lower than the live
model's by more than ``margin`` (absolute, REINDEX_GATE_MARGIN). Both models' catalogue vectors
were stored by the rebuild, so the gate encodes only the title queries.
"""

from __future__ import annotations

from django.utils import timezone

from search.encoding.base import ModelUnavailable
from search.encoding.clip import ClipEncoder
from search.index.reindex import SwitchGate, SwitchVerdict
from search.relevance.visual import HEADLINE, evaluate_models
from search.relevance.visual_sets import HELD_OUT_SHARE, Catalogue, held_out_tasks


def _describe(encoder: ClipEncoder) -> str:
    return f"{encoder.model_name} @ {encoder.revision[:12]}"


def held_out_gate(
    *, margin: float, share: float = HELD_OUT_SHARE, merchant_slug: str = ""
) -> SwitchGate:
    def check(live: ClipEncoder, candidate: ClipEncoder) -> SwitchVerdict:
        base = {"margin": margin, "held_out_share": share, "at": timezone.now().isoformat()}
        try:
            live.load()
        except ModelUnavailable as exc:
            # Switching away from a model that no longer loads is what the operator needs most.
            summary = f"the live model is not available, the switch is not evaluated: {exc}"
            return SwitchVerdict(True, summary, {**base, "note": summary})
        tasks = held_out_tasks(Catalogue.from_database(merchant_slug), share)
        names = {"live": _describe(live), "candidate": _describe(candidate)}
        if not tasks:
            summary = "no held-out query in the catalogue: the switch is not evaluated"
            return SwitchVerdict(True, summary, {**base, "models": names, "note": summary})
        evaluation = evaluate_models(tasks, {"live": live, "candidate": candidate}, names=names)
        lines = []
        worse = []
        for task, differences in evaluation.comparisons.items():
            for d in differences:
                if d.metric not in HEADLINE or d.delta is None:
                    continue
                p = "-" if d.p_value is None else f"{d.p_value:.3g}"
                line = (
                    f"{task} {d.metric}: live {d.live:.3f}, candidate {d.candidate:.3f} "
                    f"({d.delta:+.3f}, p={p}, {d.pairs} queries)"
                )
                lines.append(line)
                if d.delta < -margin:
                    worse.append(line)
        allowed = not worse
        if allowed:
            summary = f"candidate within {margin:g} of the live model or better: " + "; ".join(
                lines
            )
        else:
            summary = (
                f"candidate worse than the live model by more than {margin:g} "
                f"(REINDEX_GATE_MARGIN): " + "; ".join(worse)
            )
        return SwitchVerdict(
            allowed,
            summary,
            {**base, "summary": summary, **evaluation.as_dict(queries=False)},
        )

    return check


def evaluation_summary(evaluation: dict | None) -> str:
    """One line for the admin and index_status: the gate's decision and headline figures."""
    if not evaluation:
        return "not evaluated"
    if "tasks" not in evaluation:
        return evaluation.get("note", "not evaluated")
    decision = "allowed" if evaluation.get("allowed") else "refused"
    if evaluation.get("forced") and not evaluation.get("allowed"):
        decision = "refused, switched with --force"
    figures = []
    for task, details in evaluation["tasks"].items():
        comparison = details.get("comparison", {})
        for metric in HEADLINE:
            d = comparison.get(metric)
            if d and d.get("live") is not None and d.get("candidate") is not None:
                figures.append(f"{task} {metric} {d['live']:.3f} -> {d['candidate']:.3f}")
    return f"{decision} (margin {evaluation.get('margin')}): " + "; ".join(figures)
