"""`manage.py reconcile`: repair the differences that `index_status` reports."""

from django.core.management.base import BaseCommand

from search.index.consistency import reconcile


class Command(BaseCommand):
    help = (
        "Index what PostgreSQL has and the vector index lacks; delete points whose rows are gone."
    )

    def handle(self, *args, **options):
        repaired = reconcile()
        self.stdout.write(
            ", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in repaired.items())
        )
