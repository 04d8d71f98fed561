"""Reads of experiments: lists for staff, and an experiment's results from the analytics
events (analytics/experiments.py counts, stats.py judges)."""

from django.db.models import QuerySet

from analytics.experiments import experiment_counts
from merchandising.experiments import stats
from merchandising.experiments.models import Experiment, Variant
from merchandising.experiments.services import can_manage_experiments


def experiment_list_for_user(*, user) -> QuerySet[Experiment]:
    """Shop staff see every experiment; anyone else none (experiments are shop-wide)."""
    experiments = Experiment.objects.select_related("winner").prefetch_related("variants")
    return experiments if can_manage_experiments(user) else experiments.none()


def experiment_get_for_user(*, user, experiment_id: int) -> Experiment | None:
    return experiment_list_for_user(user=user).filter(pk=experiment_id).first()


def variants_of(experiment: Experiment) -> list[Variant]:
    return sorted(experiment.variants.all(), key=lambda variant: (variant.position, variant.pk))


def experiment_results(*, experiment: Experiment) -> stats.Results | None:
    """None for a draft (no traffic yet)."""
    if experiment.started_at is None:
        return None
    counts = experiment_counts(
        experiment_id=experiment.pk, since=experiment.started_at, until=experiment.ended_at
    )
    rows = []
    for variant in variants_of(experiment):
        found = counts.get(variant.name)
        rows.append(
            stats.Counts(
                name=variant.name,
                searches=found.searches if found else 0,
                clicked=found.clicked if found else 0,
                carted=found.carted if found else 0,
                purchased=found.purchased if found else 0,
                clicks=found.clicks if found else 0,
                position_sum=found.position_sum if found else 0.0,
                position_squares=found.position_squares if found else 0.0,
                positioned_clicks=found.positioned_clicks if found else 0,
            )
        )
    return stats.analyse(rows, metric=experiment.metric)
