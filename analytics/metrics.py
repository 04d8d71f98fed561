"""The analytics figures on /metrics: events accepted and dropped, and the rollup's lag."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from config.metrics import NAMESPACE, register_scrape_time_collector

EVENT_KINDS = ("search", "click", "add_to_cart", "purchase")
EVENTS = Counter(
    "analytics_events",
    "Analytics events by kind (search, click, add_to_cart, purchase) and outcome: accepted "
    "(written), duplicate (an event id already taken in) or dropped (queue full, write failed).",
    ["kind", "outcome"],
    namespace=NAMESPACE,
)


class RollupLagCollector(Collector):
    """Seconds between now and the last instant the rollup has counted, read at scrape time
    (the same figure in every process)."""

    def describe(self) -> Iterable[Metric]:
        # Registration asks for the names: describe() answers without touching the database
        # (collect() would query it during app initialisation).
        yield self._family()

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            f"{NAMESPACE}_analytics_rollup_lag_seconds",
            "How far the daily rollup of search analytics is behind now (seconds); absent "
            "until the first rollup has run.",
        )

    def collect(self) -> Iterable[Metric]:
        from analytics.models import RollupState

        lag = self._family()
        try:
            state = RollupState.objects.filter(name="daily").first()
        except Exception:  # noqa: BLE001 - a scrape answers whatever the database does
            state = None
        if state is not None:
            lag.add_metric([], (timezone.now() - state.counted_until).total_seconds())
        yield lag


ROLLUP_LAG = RollupLagCollector()


def register() -> None:
    register_scrape_time_collector(ROLLUP_LAG)
