"""`manage.py reindex [--merchant SLUG] [--model NAME [--revision REV] [--force]]`"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from search.encoding.base import ModelUnavailable
from search.index.reindex import ReindexError, SwitchRefused, reindex_images, reindex_products
from search.relevance.gate import held_out_gate


class Command(BaseCommand):
    help = (
        "Rebuild the vector index from PostgreSQL. With the live model, points are rewritten "
        "from stored embeddings; with --model, a new collection is built beside the live one "
        "and switched in when complete (searches keep working), unless it does worse than the live "
        "model on the catalogue's held-out splits by more than REINDEX_GATE_MARGIN. Resumable."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchant", default="", help="Only this merchant's products (slug)")
        parser.add_argument(
            "--model", default="", help="CLIP model (hub id or directory) to rebuild with"
        )
        parser.add_argument("--revision", default="", help="Pinned revision of --model")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Switch to --model even when the gate finds it worse (the figures are kept)",
        )
        parser.add_argument("--batch-size", type=int, default=settings.EMBED_BATCH_SIZE)
        parser.add_argument(
            "--skip-products",
            action="store_true",
            help="Leave the product text/keyword points alone",
        )
        parser.add_argument(
            "--skip-images", action="store_true", help="Leave the image points alone"
        )

    def handle(
        self,
        *args,
        merchant,
        model,
        revision,
        force,
        batch_size,
        skip_products,
        skip_images,
        **options,
    ):
        if not skip_products:
            bar = tqdm(desc="products", unit="product", file=self.stderr, disable=None)
            count = reindex_products(merchant_slug=merchant, progress=_updater(bar))
            bar.close()
            self.stdout.write(f"products: {count} point(s) written")
        if skip_images:
            return
        bar = tqdm(desc="images", unit="image", file=self.stderr, disable=None)
        try:
            report = reindex_images(
                model_name=model or None,
                revision=revision or None,
                merchant_slug=merchant,
                batch_size=batch_size,
                progress=_updater(bar),
                gate=held_out_gate(margin=settings.REINDEX_GATE_MARGIN),
                force=force,
            )
        except SwitchRefused as exc:
            raise CommandError(
                f"Not switched: {exc}. The new collection is built; run again with --force to "
                "switch to it anyway."
            ) from None
        except (ReindexError, ModelUnavailable) as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        self.stdout.write(
            f"images: {report.embedded} embedded, {report.reused} from stored embeddings, "
            f"{report.skipped} already there, {report.failed} failed -> {report.collection}"
            + (" (now live)" if report.switched else "")
        )
        if report.verdict is not None:
            self.stdout.write(f"switch gate: {report.verdict.summary}")


def _updater(bar):
    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update
