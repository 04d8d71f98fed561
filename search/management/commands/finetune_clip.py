"""`manage.py finetune_clip --output DIR [--model NAME] [--pairs FILE] [--queue Q] ...`"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from search.index import generations
from search.models import FinetuneRun
from search.relevance import finetune as tuning
from search.relevance import runs
from search.relevance.visual_sets import HELD_OUT_SHARE


class Command(BaseCommand):
    help = (
        "Fine-tune a CLIP model on the catalogue's image-title pairs and, with --pairs, on "
        "shoppers' clicked query -> product pairs (`export_click_pairs`): contrastive, lower "
        "layers frozen, evaluated on the held-out products after every epoch, the best kept. "
        "Writes a standard transformers model directory for `evaluate_visual --candidate` and "
        "`reindex --model`. Run again with the same --output to resume. On a CUDA device the "
        "run goes to the GPU workers' queue (FINETUNE_QUEUE); --status shows the runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="Model directory to write")
        parser.add_argument("--model", default="", help="Starting model (default: the live one)")
        parser.add_argument("--revision", default="", help="Pinned revision of --model")
        parser.add_argument("--merchant", default="", help="Only this merchant's products (slug)")
        parser.add_argument(
            "--pairs",
            type=Path,
            help="CSV of clicked query -> product pairs (`manage.py export_click_pairs`)",
        )
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
            "--device",
            default="",
            help="cpu, cuda, cuda:N or auto (default: FINETUNE_DEVICE, else CLIP_DEVICE)",
        )
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument(
            "--restart", action="store_true", help="Ignore a previous run's state in --output"
        )
        parser.add_argument(
            "--queue",
            default="",
            help="Run on a Celery worker of this queue (default: FINETUNE_QUEUE on a CUDA "
            "device, here otherwise)",
        )
        parser.add_argument(
            "--local", action="store_true", help="Run in this process even on a CUDA device"
        )
        parser.add_argument(
            "--status",
            nargs="?",
            type=int,
            const=0,
            metavar="RUN",
            help="Show the recent runs (or run RUN, epoch by epoch) and exit",
        )

    def handle(self, *args, output, model, revision, merchant, pairs, restart, **options):
        if options["status"] is not None:
            self.show_status(options["status"])
            return
        if output is None:
            raise CommandError("--output is required to train")
        for name in ("epochs", "batch_size", "patience"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        if not 0 < options["held_out_share"] < 1:
            raise CommandError("--held-out-share must be between 0 and 1")
        if options["queue"] and options["local"]:
            raise CommandError("--queue and --local exclude each other")
        if not model:
            _, live = generations.live_image_encoder_if_any()
            model, revision = live.model_name, revision or live.revision
        device = runs.finetune_device(options["device"])
        queue = runs.finetune_queue(device=device, queue=options["queue"], local=options["local"])
        config = tuning.FinetuneConfig(
            epochs=options["epochs"],
            batch_size=options["batch_size"],
            learning_rate=options["lr"],
            train_layers=options["train_layers"],
            patience=options["patience"],
            held_out_share=options["held_out_share"],
            seed=options["seed"],
            device=device,
        )
        # Absolute: a worker's working directory is not this shell's.
        run = runs.finetune_run_create(
            source=model,
            revision=revision,
            output=output.expanduser().resolve(),
            pairs_file=pairs.expanduser().resolve() if pairs else None,
            merchant_slug=merchant,
            config=config,
            restart=restart,
            queue=queue,
        )
        if queue:
            # With CELERY_TASK_ALWAYS_EAGER (the demo) the run has trained by the time this
            # returns; on a real broker it waits for a worker of the queue.
            run = runs.finetune_run_enqueue(run=run)
            if run.status in (FinetuneRun.Status.QUEUED, FinetuneRun.Status.RUNNING):
                self.stdout.write(
                    f"fine-tuning run {run.pk} queued on {queue!r} ({device}); follow it with "
                    f"`manage.py finetune_clip --status {run.pk}` or in the admin "
                    "(Search > Fine-tuning runs)"
                )
                return
        else:
            self.stdout.write(f"fine-tuning {model} -> {output} (run {run.pk}, in this process)")
            executed = runs.finetune_run_execute(
                run_id=run.pk, show_bar=True, on_epoch=self.epoch_line
            )
            if executed is None:
                raise CommandError(f"fine-tuning run {run.pk} was deleted while it ran")
            run = executed
        self.report(run)

    def epoch_line(self, record: tuning.EpochRecord) -> None:
        loss = "-" if record.loss is None else f"{record.loss:.4f}"
        self.stdout.write(f"epoch {record.epoch}: loss {loss}, held-out score {record.score:.4f}")

    def report(self, run: FinetuneRun) -> None:
        if run.notes:
            self.stdout.write(f"trained on {run.notes}")
        if run.status == FinetuneRun.Status.FAILED:
            raise CommandError(run.error)
        start = run.history[0]
        best = next(r for r in run.history if r["epoch"] == run.best_epoch)
        self.stdout.write(
            f"held-out score (mean recall@10 and nDCG@10): {start['score']:.4f} before, "
            f"{best['score']:.4f} at epoch {run.best_epoch}; {run.precision}; "
            f"{run.images_per_second or 0:.1f} training images/s on {run.device}"
        )
        self.stdout.write(
            f"model written to {run.output} (revision {run.revision[:12]}): compare it with "
            f"`manage.py evaluate_visual --candidate {run.output}`, switch with "
            f"`manage.py reindex --model {run.output}`"
        )

    def show_status(self, run_id: int) -> None:
        if run_id:
            run = FinetuneRun.objects.filter(pk=run_id).first()
            if run is None:
                raise CommandError(f"no fine-tuning run {run_id}")
            self.stdout.write(f"run {run.pk}: {run.model_name} -> {run.output}")
            self.stdout.write(runs.finetune_run_describe(run))
            for record in run.history:
                loss = "-" if record["loss"] is None else f"{record['loss']:.4f}"
                scores = ", ".join(
                    f"{task} R@10 {summary.get('recall@10') or 0:.3f}"
                    for task, summary in record["metrics"].items()
                )
                self.stdout.write(
                    f"  epoch {record['epoch']}: loss {loss}, score {record['score']:.4f} ({scores})"
                )
            return
        recent = list(FinetuneRun.objects.all()[:10])
        if not recent:
            self.stdout.write("no fine-tuning run yet")
        for run in recent:
            where = run.queue or "local"
            self.stdout.write(
                f"run {run.pk} [{where}] {run.model_name} -> {run.output}: "
                f"{runs.finetune_run_describe(run)}"
            )
