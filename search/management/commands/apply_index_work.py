"""`manage.py apply_index_work`: apply the outstanding index work (the outbox) now."""

from django.core.management.base import BaseCommand

from search.index import outbox


class Command(BaseCommand):
    help = (
        "Apply the index work waiting in the outbox now, as beat's relay does every few seconds "
        "(useful where no beat runs, e.g. make demo, or after fixing what made work fail)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=300.0, help="stop after this long")

    def handle(self, *args, **options):
        report = outbox.relay(seconds=options["seconds"])
        left = outbox.status()
        self.stdout.write(
            f"applied: {report.applied['product']} product(s), {report.applied['image']} "
            f"image(s); failed batches: {report.failed}; still outstanding: {left.depth}"
        )
