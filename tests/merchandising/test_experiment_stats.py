"""The experiment statistics decide as a careful analyst would: a known better variant is
found from simulated shoppers, an A/A test stays "not significant" in at least 95% of runs,
and the intervals, corrections and detectable effects match their textbook values."""

import numpy as np
import pytest

from merchandising.experiments import stats
from merchandising.experiments.assignment import assign


class Arm:
    def __init__(self, name: str, share: int, click_rate: float, cart_rate: float = 0.0):
        self.name, self.share, self.click_rate, self.cart_rate = name, share, click_rate, cart_rate


def simulate(arms: list[Arm], *, visitors: int, seed: int, experiment_id: int = 7) -> list:
    """Synthetic visitors, split by the real assignment; each makes one to three searches and
    clicks each with their arm's probability (add to cart given a click)."""
    rng = np.random.default_rng(seed)
    tallies = {arm.name: {"searches": 0, "clicked": 0, "carted": 0} for arm in arms}
    for number in range(visitors):
        arm = assign(experiment_id, f"visitor-{seed}-{number:06d}", arms)
        searches = int(rng.integers(1, 4))
        clicks = rng.random(searches) < arm.click_rate
        carts = clicks & (rng.random(searches) < arm.cart_rate)
        tally = tallies[arm.name]
        tally["searches"] += searches
        tally["clicked"] += int(clicks.sum())
        tally["carted"] += int(carts.sum())
    return [stats.Counts(name=arm.name, **tallies[arm.name]) for arm in arms]


def test_a_simulated_experiment_finds_the_variant_that_is_really_better():
    arms = [Arm("control", 50, 0.10), Arm("b", 50, 0.13)]

    results = stats.analyse(simulate(arms, visitors=4000, seed=2026), metric="ctr")

    assert results.verdict.significant
    assert results.verdict.winner == "b"
    assert results.verdict.text.startswith("b beats control")
    b = results.variants[1]
    assert b.tests["ctr"].difference > 0 and b.tests["ctr"].adjusted_p < 0.05


def test_with_three_variants_only_the_better_one_wins_after_holms_correction():
    arms = [Arm("control", 34, 0.10), Arm("same", 33, 0.10), Arm("better", 33, 0.14)]

    results = stats.analyse(simulate(arms, visitors=6000, seed=99), metric="ctr")

    assert results.verdict.winner == "better"
    same = results.variants[1].tests["ctr"]
    assert not same.significant
    assert same.adjusted_p >= same.p_value  # corrected for two comparisons


def test_the_deciding_metric_is_the_experiments_own():
    # b gets more clicks but converts them to carts far less often: on add-to-cart it loses.
    arms = [Arm("control", 50, 0.10, cart_rate=0.5), Arm("b", 50, 0.14, cart_rate=0.2)]
    counts = simulate(arms, visitors=5000, seed=5)

    assert stats.analyse(counts, metric="ctr").verdict.winner == "b"
    assert stats.analyse(counts, metric="add_to_cart").verdict.winner == "control"


# A fixed list: the figure is reproducible, and it is the false-positive rate a shop sees.
AA_SEEDS = list(range(1000, 1060))


def test_an_a_a_test_stays_not_significant_in_at_least_95_percent_of_runs():
    arms = [Arm("control", 50, 0.10), Arm("also-control", 50, 0.10)]

    verdicts = [
        stats.analyse(simulate(arms, visitors=3000, seed=seed)).verdict for seed in AA_SEEDS
    ]

    quiet = [v for v in verdicts if not v.significant]
    assert len(quiet) / len(verdicts) >= 0.95
    assert all(v.text.startswith("Not yet significant") and v.winner is None for v in quiet)


def test_an_a_a_a_test_with_holms_correction_stays_quiet_too():
    arms = [Arm("a", 34, 0.2), Arm("b", 33, 0.2), Arm("c", 33, 0.2)]

    significant = sum(
        stats.analyse(simulate(arms, visitors=2000, seed=seed)).verdict.significant
        for seed in AA_SEEDS
    )

    assert significant / len(AA_SEEDS) <= 0.05


def test_no_verdict_before_enough_searches_however_large_the_difference():
    counts = [stats.Counts("control", 40, clicked=2), stats.Counts("b", 40, clicked=30)]

    verdict = stats.analyse(counts).verdict

    assert not verdict.significant
    assert verdict.text == (
        f"Not yet significant: control, b have fewer than {stats.MIN_SEARCHES} searches."
    )


def test_wilson_interval_matches_the_textbook_value():
    rate = stats.wilson(10, 100)

    assert rate.value == 0.1
    assert (round(rate.low, 4), round(rate.high, 4)) == (0.0552, 0.1744)
    assert stats.wilson(0, 0).value is None


def test_holm_adjusts_step_down_and_stays_monotone():
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5]) == [0.5]


def test_the_minimum_detectable_effect_is_the_textbook_figure_and_shrinks_with_traffic():
    # (z_0.975 + z_0.8) * sqrt(p(1-p) * (1/n1 + 1/n2)) = 2.8016 * sqrt(0.09 * 0.002)
    assert stats.minimum_detectable_effect(0.1, 1000, 1000) == pytest.approx(0.03759, abs=1e-4)
    assert stats.minimum_detectable_effect(0.1, 4000, 4000) == pytest.approx(0.03759 / 2, abs=1e-4)
    assert stats.minimum_detectable_effect(None, 10, 10) is None


def test_the_two_proportion_test_is_the_pooled_z_test():
    from scipy.stats import norm

    p = stats.two_proportion_p(100, 1000, 130, 1000)
    pooled = 230 / 2000
    z = (0.13 - 0.10) / np.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert p == pytest.approx(2 * norm.sf(z), rel=1e-9)
    assert stats.two_proportion_p(0, 500, 0, 500) == 1.0


def test_mean_click_position_has_a_t_interval():
    counts = stats.Counts(
        "a", 10, clicked=4, positioned_clicks=4, position_sum=10, position_squares=30
    )

    mean = stats.mean_position(counts)

    # positions 1, 2, 3, 4: mean 2.5, sd 1.29, t(3) 3.182 -> 2.5 +- 2.054
    assert mean.value == 2.5
    assert (round(mean.low, 2), round(mean.high, 2)) == (0.45, 4.55)
