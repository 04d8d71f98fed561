"""Fit the click model on recent searches and clicks and store the boosts it learned.

    manage.py fit_click_model [--days 30] [--positions 20] [--min-impressions 20]

Beat runs the same fit (merchandising/tasks.py) when MERCHANDISING_CLICK_MODEL is on; the
boosts only change results through a click-model rule, and only with that setting on.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from merchandising.services import click_model_fit


class Command(BaseCommand):
    help = "Fit the position-based click model on recent text searches and clicks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=settings.MERCHANDISING_CLICK_MODEL_DAYS)
        parser.add_argument(
            "--positions", type=int, default=settings.MERCHANDISING_CLICK_MODEL_POSITIONS
        )
        parser.add_argument(
            "--min-impressions",
            type=int,
            default=settings.MERCHANDISING_CLICK_MODEL_MIN_IMPRESSIONS,
        )

    def handle(self, *args, days: int, positions: int, min_impressions: int, **options) -> None:
        run = click_model_fit(days=days, positions=positions, min_impressions=min_impressions)
        self.stdout.write(
            f"click model: {run.searches} searches, {run.impressions} impressions, "
            f"{run.clicks} clicks over {run.queries} queries; {run.boosts} boosts "
            f"({run.iterations} EM iterations)"
        )
        if run.examination:
            shown = ", ".join(f"{p:.2f}" for p in run.examination[:10])
            self.stdout.write(f"examination by position (1 = the first): {shown}")
        if not settings.MERCHANDISING_CLICK_MODEL:
            self.stdout.write(
                "MERCHANDISING_CLICK_MODEL is off: click-model rules do not apply these yet."
            )
