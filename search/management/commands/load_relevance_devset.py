"""`manage.py load_relevance_devset [--products FILE] [--images auto|yes|no]`"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from search.encoding.base import ModelUnavailable
from search.encoding.registry import get_clip_encoder
from search.relevance import devset


class Command(BaseCommand):
    help = (
        f"Load the relevance development set into the catalogue under the merchant "
        f"{devset.MERCHANT_SLUG!r} (created, updated or deleted to match the file; safe to run "
        "again), then index its products synchronously. With images, each product gets a drawn "
        "picture and the image leg can be evaluated too."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--products",
            type=Path,
            default=devset.DEVSET_DIR / devset.PRODUCTS_FILE,
            help="products.jsonl to load",
        )
        parser.add_argument(
            "--images",
            choices=("auto", "yes", "no"),
            default="auto",
            help="Draw and index a picture per product: auto = only when the CLIP model loads",
        )

    def handle(self, *args, products: Path, images: str, **options):
        try:
            rows = devset.read_products(products)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        with_images = images == "yes"
        if images == "auto":
            try:
                get_clip_encoder().load()
                with_images = True
            except ModelUnavailable as exc:
                self.stdout.write(
                    f"No images: the CLIP model is not available, so the image leg cannot be evaluated ({exc})"
                )
        try:
            report = devset.load_devset(rows, images=with_images)
        except ModelUnavailable as exc:
            raise CommandError(f"--images yes needs the CLIP model: {exc}") from None
        self.stdout.write(
            f"{devset.MERCHANT_SLUG}: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.deleted} deleted, {report.images_added} image(s) added; "
            f"indexed {report.products_indexed} product(s)"
            + (f" and {report.images_indexed} image(s)" if with_images else "")
        )
