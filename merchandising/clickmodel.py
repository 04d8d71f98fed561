"""A position-based click model (PBM), fitted by expectation-maximisation.

A shopper clicks a result when they look at its place *and* find the product attractive:
``P(click | query q, product d, position k) = θ_k · α_qd``. The examination probability θ_k
is shared by every query (how far down people look); the attractiveness α_qd is what the
model learns per query and product. A product clicked more than its place explains has a
higher α than the products around it, whatever position it was shown at; plain
click-through rates favour whatever was on top. (Chuklin, Markov, de Rijke, *Click Models for
Web Search*, 2015, ch. 3-4; Wang et al., *Position Bias Estimation for Unbiased Learning to
Rank in Personal Search*, WSDM 2018.)

The model is identified only up to a scale (θ·c, α/c) and only where products were seen at
more than one place (rankings change with the catalogue, rules, experiments); θ is reported
relative to the first position. Pure numpy: ``fit`` takes arrays and returns arrays, the
reading of events and the writing of boosts live in selectors.py and services.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EPS = 1e-6


@dataclass(frozen=True)
class Impressions:
    """One row per (search, shown product): which query-product pair, at which place, clicked.

    ``pair``: index into the caller's list of (query, product) pairs; ``position``: 0-based.
    """

    pair: np.ndarray  # int
    position: np.ndarray  # int, 0-based
    clicked: np.ndarray  # bool

    def __post_init__(self) -> None:
        if not (len(self.pair) == len(self.position) == len(self.clicked)):
            raise ValueError("pair, position and clicked must have one entry per impression")


@dataclass(frozen=True)
class PbmFit:
    attractiveness: np.ndarray  # α per pair, smoothed
    examination: np.ndarray  # θ per position, θ[0] = 1
    impressions: np.ndarray  # per pair
    clicks: np.ndarray  # per pair
    iterations: int
    log_likelihood: float


def fit(
    data: Impressions,
    *,
    pairs: int,
    positions: int,
    iterations: int = 100,
    tolerance: float = 1e-6,
    prior: tuple[float, float] = (1.0, 1.0),
) -> PbmFit:
    """EM for the PBM. ``prior``: Beta pseudo-counts (clicked, not clicked) on every α, so a
    pair seen a few times stays near the middle instead of at 0 or 1."""
    pair = np.asarray(data.pair, dtype=np.int64)
    position = np.asarray(data.position, dtype=np.int64)
    clicked = np.asarray(data.clicked, dtype=bool)
    alpha = np.full(pairs, 0.5)
    theta = np.full(positions, 0.5)
    seen_pair = np.bincount(pair, minlength=pairs).astype(float)
    seen_position = np.bincount(position, minlength=positions).astype(float)
    previous = -np.inf
    log_likelihood = previous
    done = 0
    while done < iterations:
        done += 1
        a, t = alpha[pair], theta[position]
        no_click = np.maximum(1.0 - a * t, _EPS)
        # Posterior that the product was attractive / that its place was examined, given the
        # observation: a click says both; no click splits between "not seen" and "not liked".
        attractive = np.where(clicked, 1.0, a * (1.0 - t) / no_click)
        examined = np.where(clicked, 1.0, t * (1.0 - a) / no_click)
        alpha = (np.bincount(pair, attractive, minlength=pairs) + prior[0]) / (
            seen_pair + prior[0] + prior[1]
        )
        theta = np.bincount(position, examined, minlength=positions) / np.maximum(
            seen_position, 1.0
        )
        theta = np.clip(theta, _EPS, 1.0)
        p = np.clip(alpha[pair] * theta[position], _EPS, 1 - _EPS)
        log_likelihood = float(np.sum(np.where(clicked, np.log(p), np.log(1 - p))))
        if abs(log_likelihood - previous) < tolerance * max(1.0, abs(log_likelihood)):
            break
        previous = log_likelihood
    # The scale is free: report θ relative to the first place and carry the rest on α.
    top = theta[0] if positions and seen_position[0] > 0 else 1.0
    return PbmFit(
        attractiveness=np.clip(alpha * top, 0.0, 1.0),
        examination=theta / top,
        impressions=seen_pair.astype(np.int64),
        clicks=np.bincount(pair, clicked.astype(float), minlength=pairs).astype(np.int64),
        iterations=done,
        log_likelihood=log_likelihood,
    )


def lifts(fit_: PbmFit, query_of_pair: np.ndarray) -> np.ndarray:
    """Each pair's attractiveness over its query's impression-weighted mean: 1 is a product
    clicked as much as its places explain for a typical result of that query, 2 twice as."""
    query_of_pair = np.asarray(query_of_pair, dtype=np.int64)
    queries = int(query_of_pair.max()) + 1 if len(query_of_pair) else 0
    weight = fit_.impressions.astype(float)
    mean = np.bincount(query_of_pair, fit_.attractiveness * weight, minlength=queries) / (
        np.maximum(np.bincount(query_of_pair, weight, minlength=queries), 1.0)
    )
    return fit_.attractiveness / np.maximum(mean[query_of_pair], _EPS)


def boost_from_lift(lift: np.ndarray) -> np.ndarray:
    """The boost a pair earns, 0..1: log2 of its lift, capped (twice as attractive as the
    query's typical result earns a full boost; as or less attractive, none)."""
    return np.clip(np.log2(np.maximum(lift, _EPS)), 0.0, 1.0)
