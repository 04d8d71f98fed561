"""The position-based click model on synthetic click logs with a known attractiveness per
product and a known position bias: it recovers both, where plain click-through rates do not."""

import numpy as np
import pytest

from merchandising.clickmodel import Impressions, boost_from_lift, fit, lifts

ATTRACTIVENESS = np.array([0.20, 0.30, 0.15, 0.60, 0.10, 0.25, 0.40, 0.05, 0.35, 0.50])
EXAMINATION = 1.0 / np.arange(1, 11) ** 0.9  # P(looked at place k): 1, 0.54, 0.37, ...
# The shop's ranking shows the most attractive product (3) last and the next (9) ninth.
SHOWN = np.array([0, 1, 2, 4, 5, 7, 6, 8, 9, 3])


def click_log(seed: int, sessions: int = 6_000, shuffled: float = 0.3) -> Impressions:
    """Each session shows the ten products (in the shop's order, or shuffled in a share of
    sessions, as rankings change), and clicks each with P = θ(place) · α(product)."""
    rng = np.random.default_rng(seed)
    pair, position, clicked = [], [], []
    for _ in range(sessions):
        order = rng.permutation(10) if rng.random() < shuffled else SHOWN
        pair.append(order)
        position.append(np.arange(10))
        clicked.append(rng.random(10) < EXAMINATION * ATTRACTIVENESS[order])
    return Impressions(np.concatenate(pair), np.concatenate(position), np.concatenate(clicked))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fit_recovers_the_attractiveness_order_and_the_position_bias(seed):
    log = click_log(seed)

    fitted = fit(log, pairs=10, positions=10)

    assert list(np.argsort(-fitted.attractiveness)) == list(np.argsort(-ATTRACTIVENESS))
    assert np.allclose(fitted.examination, EXAMINATION / EXAMINATION[0], atol=0.08)
    assert np.allclose(fitted.attractiveness, ATTRACTIVENESS, atol=0.1)


def test_plain_click_through_rates_favour_the_top_places_the_model_does_not():
    fitted = fit(click_log(1), pairs=10, positions=10)

    ctr = fitted.clicks / fitted.impressions

    assert int(np.argmax(ctr)) == 0  # shown first nearly always: most clicks per view
    assert int(np.argmax(fitted.attractiveness)) == 3  # shown last, liked most


def test_the_boost_goes_to_products_clicked_more_than_their_places_explain():
    fitted = fit(click_log(1), pairs=10, positions=10)

    boost = boost_from_lift(lifts(fitted, np.zeros(10, dtype=np.int64)))

    assert int(np.argmax(boost)) == 3
    assert boost[0] == 0.0  # first place, ordinary appeal: its clicks are its place's
    # What the true attractiveness would earn (every product is shown equally often).
    assert np.allclose(boost, boost_from_lift(ATTRACTIVENESS / ATTRACTIVENESS.mean()), atol=0.15)


def test_lifts_compare_products_within_their_own_query():
    # Two queries of five products: the second query's products are all clicked twice as
    # much, which says nothing about one product against the others of its query.
    rng = np.random.default_rng(5)
    alpha = np.array([0.1, 0.1, 0.3, 0.1, 0.1, 0.2, 0.2, 0.6, 0.2, 0.2])
    theta = np.array([1.0, 0.6, 0.4, 0.3, 0.25])
    pair, position, clicked = [], [], []
    for _ in range(8_000):
        query = rng.integers(2)
        order = rng.permutation(5) + 5 * query
        pair.append(order)
        position.append(np.arange(5))
        clicked.append(rng.random(5) < theta * alpha[order])
    log = Impressions(np.concatenate(pair), np.concatenate(position), np.concatenate(clicked))

    fitted = fit(log, pairs=10, positions=5)
    boost = boost_from_lift(lifts(fitted, np.repeat([0, 1], 5)))

    assert set(np.flatnonzero(boost > 0.5)) == {2, 7}


def test_impressions_must_line_up():
    with pytest.raises(ValueError):
        Impressions(np.array([0, 1]), np.array([0]), np.array([True, False]))
