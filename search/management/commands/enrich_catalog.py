"""`manage.py enrich_catalog`: derive colours and near-duplicate flags for the catalogue."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from catalog import selectors as catalog_selectors
from search.enrichment.service import enrich_images, pending_batches


class Command(BaseCommand):
    help = (
        "Enrich indexed images not enriched yet (colours, perceptual hash, near-duplicates), in "
        "batches. Stopped, it resumes where it was when run again; --redo enriches every image "
        "again (resume a stopped redo with --after-id)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=64)
        parser.add_argument("--redo", action="store_true", help="Enrich enriched images again.")
        parser.add_argument(
            "--after-id", type=int, default=0, help="Start after this image id (resume a redo)."
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, batch_size: int, redo: bool, after_id: int, **options):
        counts = catalog_selectors.product_image_enrichment_counts()
        total = counts["indexed"] if redo else counts["indexed"] - counts["enriched"]
        done = duplicates = failed = 0
        last_id = after_id
        with tqdm(
            total=total, unit="image", disable=options["no_progress"], file=self.stderr
        ) as bar:
            for image_ids in pending_batches(limit=batch_size, redo=redo, after_id=after_id):
                report = enrich_images(image_ids)
                done += len(report.enriched)
                duplicates += len(report.duplicates)
                failed += len(report.failed)
                last_id = image_ids[-1]
                bar.update(len(image_ids))
        self.stdout.write(
            f"enriched {done} image(s), {duplicates} near-duplicate(s) flagged, {failed} failed"
            f" (last image id {last_id})"
        )
