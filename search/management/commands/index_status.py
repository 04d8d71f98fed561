"""`manage.py index_status`: image counts by status, and PostgreSQL vs vector index differences."""

from django.core.management.base import BaseCommand

from search.index.consistency import conclusion, describe, index_status


class Command(BaseCommand):
    help = "Show indexing status and the differences between PostgreSQL and the vector index."

    def handle(self, *args, **options):
        status = index_status()
        for line in describe(status):
            self.stdout.write(line)
        style = self.style.SUCCESS if status.consistent else self.style.WARNING
        self.stdout.write(style(conclusion(status)))
