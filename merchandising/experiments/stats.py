"""The statistics of an experiment: per variant rates with Wilson intervals, each variant
against the control by a two-sided two-proportion test (Pearson's chi-square on the 2x2
table, SciPy; the same p as the pooled z-test), Holm's correction when there are several
comparisons, and the minimum detectable effect of the traffic so far.

Pure functions of counts (analytics/experiments.py gathers them), so the simulations in the
tests run them directly. The unit is the search; a visitor's searches are not independent,
so with heavy repeat visitors the intervals are somewhat too narrow (the usual simplification
of search A/B tests, e.g. Algolia's click-through comparison).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from scipy import stats

ALPHA = 0.05
POWER = 0.8
# Below this many searches in a variant no verdict is given, whatever the p-value: the
# chi-square approximation and a shop's patience both need some traffic.
MIN_SEARCHES = 100

METRICS = {
    "ctr": "Click-through rate",
    "add_to_cart": "Add-to-cart rate",
    "conversion": "Conversion rate",
}


@dataclass(frozen=True)
class Rate:
    successes: int
    trials: int
    value: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Mean:
    value: float | None
    low: float | None
    high: float | None
    count: int


@dataclass(frozen=True)
class Test:
    """A variant's rate against the control's."""

    difference: float | None  # absolute, variant - control
    lift: float | None  # relative to the control's rate
    p_value: float | None
    adjusted_p: float | None  # Holm over the variants compared with the control
    significant: bool


@dataclass(frozen=True)
class Counts:
    name: str
    searches: int
    clicked: int = 0
    carted: int = 0
    purchased: int = 0
    clicks: int = 0
    position_sum: float = 0.0
    position_squares: float = 0.0
    positioned_clicks: int = 0

    def successes(self, metric: str) -> int:
        return {"ctr": self.clicked, "add_to_cart": self.carted, "conversion": self.purchased}[
            metric
        ]


@dataclass
class VariantStats:
    name: str
    is_control: bool
    searches: int
    rates: dict[str, Rate]
    click_position: Mean
    tests: dict[str, Test] = field(default_factory=dict)  # empty for the control
    mde: float | None = None  # absolute, on the deciding metric; control: None


@dataclass
class Verdict:
    significant: bool
    winner: str | None  # a variant's name; None until significant
    metric: str
    text: str


@dataclass
class Results:
    variants: list[VariantStats]
    verdict: Verdict
    alpha: float = ALPHA
    power: float = POWER


def wilson(successes: int, trials: int, alpha: float = ALPHA) -> Rate:
    if trials == 0:
        return Rate(successes, trials, None, None, None)
    interval = stats.binomtest(successes, trials).proportion_ci(
        confidence_level=1 - alpha, method="wilson"
    )
    return Rate(successes, trials, successes / trials, interval.low, interval.high)


def mean_position(counts: Counts, alpha: float = ALPHA) -> Mean:
    n = counts.positioned_clicks
    if n == 0:
        return Mean(None, None, None, 0)
    mean = counts.position_sum / n
    if n < 2:
        return Mean(mean, None, None, n)
    variance = max(counts.position_squares - n * mean * mean, 0.0) / (n - 1)
    half = stats.t.ppf(1 - alpha / 2, n - 1) * math.sqrt(variance / n)
    return Mean(mean, mean - half, mean + half, n)


def two_proportion_p(a_successes: int, a_trials: int, b_successes: int, b_trials: int) -> float:
    """Two-sided p of equal rates (chi-square without continuity correction, i.e. the pooled
    two-proportion z-test); 1.0 when the table has no variation to test."""
    successes = a_successes + b_successes
    trials = a_trials + b_trials
    if a_trials == 0 or b_trials == 0 or successes in (0, trials):
        return 1.0
    table = [
        [a_successes, a_trials - a_successes],
        [b_successes, b_trials - b_successes],
    ]
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone), in the input's order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda index: p_values[index])
    adjusted = [1.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def minimum_detectable_effect(
    base_rate: float | None,
    control_trials: int,
    variant_trials: int,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
) -> float | None:
    """The smallest absolute difference from ``base_rate`` a two-sided test at ``alpha`` finds
    with probability ``power`` with these sample sizes (normal approximation)."""
    if base_rate is None or control_trials == 0 or variant_trials == 0:
        return None
    # A rate of 0 or 1 so far has no variance; a rate of one success in the larger sample
    # keeps the figure finite and honest (it shrinks as traffic comes).
    rate = min(max(base_rate, 1 / max(control_trials, variant_trials)), 1 - 1e-9)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(z * math.sqrt(rate * (1 - rate) * (1 / control_trials + 1 / variant_trials)))


def analyse(
    counts: Sequence[Counts], *, metric: str = "ctr", alpha: float = ALPHA, power: float = POWER
) -> Results:
    """``counts[0]`` is the control."""
    control = counts[0]
    variants = [
        VariantStats(
            name=c.name,
            is_control=index == 0,
            searches=c.searches,
            rates={m: wilson(c.successes(m), c.searches, alpha) for m in METRICS},
            click_position=mean_position(c, alpha),
        )
        for index, c in enumerate(counts)
    ]
    others = list(zip(counts[1:], variants[1:], strict=True))
    comparisons = max(len(others), 1)
    for name in METRICS:
        raw = [
            two_proportion_p(
                control.successes(name), control.searches, c.successes(name), c.searches
            )
            for c, _ in others
        ]
        adjusted = holm(raw)
        base = variants[0].rates[name].value
        for (c, stat), p, p_adj in zip(others, raw, adjusted, strict=True):
            value = stat.rates[name].value
            difference = None if value is None or base is None else value - base
            stat.tests[name] = Test(
                difference=difference,
                lift=difference / base if difference is not None and base else None,
                p_value=p,
                adjusted_p=p_adj,
                significant=(p_adj < alpha and min(c.searches, control.searches) >= MIN_SEARCHES),
            )
    for c, stat in others:
        # Bonferroni's share of alpha: what Holm needs of the least significant comparison.
        stat.mde = minimum_detectable_effect(
            variants[0].rates[metric].value,
            control.searches,
            c.searches,
            alpha=alpha / comparisons,
            power=power,
        )
    return Results(variants=variants, verdict=_verdict(variants, metric, alpha), alpha=alpha)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}%"


def _p(p: float | None) -> str:
    return "< 0.001" if p is not None and p < 0.001 else f"= {p or 1.0:.3g}"


def _direction(test: Test) -> int:
    """1 significantly better than the control, -1 significantly worse, 0 not significant."""
    if not test.significant or not test.difference:
        return 0
    return 1 if test.difference > 0 else -1


def _verdict(variants: list[VariantStats], metric: str, alpha: float) -> Verdict:
    label = METRICS[metric].lower()
    control, others = variants[0], variants[1:]
    better = [v for v in others if _direction(v.tests[metric]) > 0]
    worse = [v for v in others if _direction(v.tests[metric]) < 0]
    confidence = f"{100 * (1 - alpha):g}%"
    if better:
        best = max(better, key=lambda v: v.rates[metric].value or 0.0)
        test = best.tests[metric]
        return Verdict(
            True,
            best.name,
            metric,
            f"{best.name} beats {control.name} on {label}: "
            f"{_percent(best.rates[metric].value)} vs {_percent(control.rates[metric].value)} "
            f"({test.lift:+.1%}), adjusted p {_p(test.adjusted_p)} "
            f"(significant at {confidence}).",
        )
    if others and len(worse) == len(others):
        p = max(v.tests[metric].adjusted_p or 0.0 for v in worse)
        return Verdict(
            True,
            control.name,
            metric,
            f"{control.name} (the control) beats every variant on {label} "
            f"(largest adjusted p {_p(p)}, significant at {confidence}).",
        )
    too_few = [v.name for v in variants if v.searches < MIN_SEARCHES]
    if too_few:
        reason = (
            f"{', '.join(too_few)} {'has' if len(too_few) == 1 else 'have'} fewer than "
            f"{MIN_SEARCHES} searches."
        )
    else:
        smallest = min((v.tests[metric].adjusted_p or 1.0 for v in others), default=1.0)
        mde = max((v.mde or 0.0 for v in others), default=0.0)
        reason = (
            f"no variant differs from {control.name} on {label} at {confidence} "
            f"(smallest adjusted p {_p(smallest)}); with the traffic so far a difference "
            f"of {100 * mde:.2f} points would be found 80% of the time."
        )
    return Verdict(False, None, metric, f"Not yet significant: {reason}")
