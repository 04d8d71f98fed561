"""`manage.py export_click_pairs --output pairs.csv [--since DAY] [--until DAY] ...`"""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from analytics.click_pairs import (
    DEFAULT_KINDS,
    PROPENSITY_CLIP,
    ClickPairsError,
    click_pairs_collect,
    click_pairs_write,
)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a day (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Write the clicked query -> product pairs of text searches as a CSV (query, merchant, "
        "sku, product_id, clicks, visitors, weight) for `finetune_clip --pairs`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", default="-", help="CSV file to write (- : stdout)")
        parser.add_argument("--since", type=_day, help="First day of searches (UTC, inclusive)")
        parser.add_argument("--until", type=_day, help="Last day of searches (UTC, inclusive)")
        parser.add_argument(
            "--kind",
            action="append",
            dest="kinds",
            help=f"Search kinds to count (repeat; default {', '.join(DEFAULT_KINDS)}; "
            "hybrid clicks answer the photo too)",
        )
        parser.add_argument("--min-clicks", type=int, default=2)
        parser.add_argument(
            "--min-visitors", type=int, default=1, help="Different visitors who clicked the pair"
        )
        parser.add_argument(
            "--position-bias",
            type=float,
            default=0.0,
            metavar="ETA",
            help="Weight a click at position p by p**ETA (inverse propensity; positions past "
            f"{PROPENSITY_CLIP} count as {PROPENSITY_CLIP}); 0, the default: weight = clicks",
        )
        parser.add_argument("--merchant", default="", help="Only this merchant's products (slug)")

    def handle(self, *args, output, since, until, kinds, merchant, **options):
        try:
            export = click_pairs_collect(
                since=since,
                until=until,
                kinds=kinds or DEFAULT_KINDS,
                min_clicks=options["min_clicks"],
                min_visitors=options["min_visitors"],
                position_bias=options["position_bias"],
                merchant_slug=merchant,
            )
        except ClickPairsError as exc:
            raise CommandError(str(exc)) from None
        if output == "-":
            written = click_pairs_write(export.pairs, self.stdout)
        else:
            with Path(output).open("w", newline="", encoding="utf-8") as fh:
                written = click_pairs_write(export.pairs, fh)
        queries = len({pair.query for pair in export.pairs})
        self.stderr.write(
            f"{written} pair(s) of {queries} quer(y/ies) written to {output}"
            + (f"; {export.gone} of deleted or inactive products left out" if export.gone else "")
        )
