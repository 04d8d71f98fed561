"""`manage.py index_status`: image counts by status, PostgreSQL vs vector index differences,
the image generations and the encoders' precision (search/management/status_report.py)."""

from django.core.management.base import BaseCommand

from search.index.consistency import conclusion, index_status
from search.management.status_report import status_lines


class Command(BaseCommand):
    help = "Show indexing status and the differences between PostgreSQL and the vector index."

    def handle(self, *args, **options):
        status = index_status()
        for line in status_lines(status):
            self.stdout.write(line)
        style = self.style.SUCCESS if status.consistent else self.style.WARNING
        self.stdout.write(style(conclusion(status)))
