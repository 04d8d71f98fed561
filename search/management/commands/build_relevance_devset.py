"""`manage.py build_relevance_devset [--output DIR] [--check]`"""

import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from search.relevance import devset


class Command(BaseCommand):
    help = (
        "Write the relevance development set (products.jsonl, queries.tsv, qrels.tsv), generated "
        "from the sample catalogue with a fixed seed. --check compares instead of writing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", type=Path, default=devset.DEVSET_DIR, help="Directory to write to"
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Fail if the files in --output differ from what would be written",
        )

    def handle(self, *args, output: Path, check: bool, **options):
        data = devset.build_devset()
        if check:
            with tempfile.TemporaryDirectory() as tmp:
                fresh = devset.write_devset(Path(tmp), data)
                stale = [
                    p.name
                    for p in fresh
                    if not (output / p.name).is_file()
                    or (output / p.name).read_bytes() != p.read_bytes()
                ]
            if stale:
                raise CommandError(
                    f"{', '.join(stale)} in {output} differ from the generator: run build_relevance_devset"
                )
            self.stdout.write(f"{output}: up to date")
            return
        paths = devset.write_devset(output, data)
        judged = sum(len(grades) for grades in data.qrels.values())
        self.stdout.write(
            f"{len(data.products)} products, {len(data.queries)} queries, {judged} judgments -> "
            + ", ".join(str(path) for path in paths)
        )
