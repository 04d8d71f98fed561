"""`manage.py finetune_clip --output DIR [--model NAME] [--epochs N] [--train-layers N] ...`"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search.index import generations
from search.relevance import finetune as tuning
from search.relevance.visual_sets import HELD_OUT_SHARE, Catalogue


class Command(BaseCommand):
    help = (
        "Fine-tune a CLIP model on the catalogue's image-title pairs (contrastive, lower layers "
        "frozen), evaluating on the held-out products after every epoch and keeping the best. "
        "Writes a standard transformers model directory for `evaluate_visual --candidate` and "
        "`reindex --model`. Run again with the same --output to resume."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, required=True, help="Model directory to write")
        parser.add_argument("--model", default="", help="Starting model (default: the live one)")
        parser.add_argument("--revision", default="", help="Pinned revision of --model")
        parser.add_argument("--merchant", default="", help="Only this merchant's products (slug)")
        defaults = tuning.FinetuneConfig()
        parser.add_argument("--epochs", type=int, default=defaults.epochs)
        parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
        parser.add_argument("--lr", type=float, default=defaults.learning_rate)
        parser.add_argument(
            "--train-layers",
            type=int,
            default=defaults.train_layers,
            help="Top layers of each tower that learn (-1: all; default %(default)s)",
        )
        parser.add_argument(
            "--patience",
            type=int,
            default=defaults.patience,
            help="Stop after this many epochs without a better held-out score",
        )
        parser.add_argument("--held-out-share", type=float, default=HELD_OUT_SHARE)
        parser.add_argument(
            "--device", default="", help="cpu, cuda, cuda:N or auto (default: CLIP_DEVICE)"
        )
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument(
            "--restart", action="store_true", help="Ignore a previous run's state in --output"
        )

    def handle(self, *args, output, model, revision, merchant, restart, **options):
        for name in ("epochs", "batch_size", "patience"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        if not 0 < options["held_out_share"] < 1:
            raise CommandError("--held-out-share must be between 0 and 1")
        if not model:
            _, live = generations.live_image_encoder_if_any()
            model, revision = live.model_name, revision or live.revision
        config = tuning.FinetuneConfig(
            epochs=options["epochs"],
            batch_size=options["batch_size"],
            learning_rate=options["lr"],
            train_layers=options["train_layers"],
            patience=options["patience"],
            held_out_share=options["held_out_share"],
            seed=options["seed"],
            device=options["device"] or settings.CLIP_DEVICE,
        )
        catalogue = Catalogue.from_database(merchant)
        self.stdout.write(f"fine-tuning {model} on {len(catalogue.titles)} products -> {output}")
        try:
            report = tuning.finetune(
                source=model,
                revision=revision or None,
                output=output,
                catalogue=catalogue,
                config=config,
                resume=not restart,
                show_bar=True,
                progress=lambda r: self.stdout.write(
                    f"epoch {r.epoch}: loss {r.loss:.4f}, held-out score {r.score:.4f}"
                ),
            )
        except tuning.FinetuneError as exc:
            raise CommandError(str(exc)) from None
        if report.resumed_from:
            self.stdout.write(f"resumed after epoch {report.resumed_from}")
        start = report.history[0]
        best = next(r for r in report.history if r.epoch == report.best_epoch)
        self.stdout.write(
            f"held-out score (mean recall@10 and nDCG@10): {start.score:.4f} before, "
            f"{best.score:.4f} at epoch {report.best_epoch}; {report.precision}; "
            f"{report.images_per_second:.1f} training images/s"
        )
        self.stdout.write(
            f"model written to {output} (revision {report.revision[:12]}): compare it with "
            f"`manage.py evaluate_visual --candidate {output}`, switch with "
            f"`manage.py reindex --model {output}`"
        )
