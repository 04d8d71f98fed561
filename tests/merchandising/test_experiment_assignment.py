"""A visitor keeps their variant; the split follows the shares; no id means the control."""

from collections import Counter

import pytest

from merchandising.experiments.assignment import assign, bucket


class Arm:
    def __init__(self, name: str, share: int):
        self.name, self.share = name, share


ARMS = [Arm("control", 20), Arm("b", 30), Arm("c", 50)]


def test_a_visitor_gets_the_same_variant_every_time_and_in_every_process():
    first = [assign(3, f"visitor-{n:05d}", ARMS).name for n in range(500)]
    again = [
        assign(3, f"visitor-{n:05d}", [Arm(a.name, a.share) for a in ARMS]).name for n in range(500)
    ]

    assert first == again
    # The bucket is a function of the ids alone (sha256), not of the process's hash seed.
    assert bucket(3, "visitor-00001") == bucket(3, "visitor-00001")


@pytest.mark.parametrize("shares", [(50, 50), (20, 30, 50), (90, 10)])
def test_the_split_matches_the_shares(shares):
    arms = [Arm(f"v{i}", share) for i, share in enumerate(shares)]

    counts = Counter(assign(11, f"visitor-{n:06d}", arms).name for n in range(20_000))

    for arm in arms:
        assert counts[arm.name] / 20_000 == pytest.approx(arm.share / 100, abs=0.015)


def test_each_experiment_splits_visitors_afresh():
    visitors = [f"visitor-{n:05d}" for n in range(2000)]

    same = sum(assign(1, v, ARMS).name == assign(2, v, ARMS).name for v in visitors)

    # Independent splits agree by chance only: 0.2² + 0.3² + 0.5² = 38% of the time.
    assert same / len(visitors) == pytest.approx(0.38, abs=0.04)


def test_a_visitor_without_an_id_gets_the_control():
    assert assign(5, "", ARMS).name == "control"
