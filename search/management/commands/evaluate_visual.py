"""`manage.py evaluate_visual [--photos DIR|CSV] [--queries CSV] [--candidate MODEL] [--json F] [--html F]`"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from search.encoding.base import ModelUnavailable
from search.encoding.registry import clip_encoder_for
from search.index import generations
from search.relevance import visual, visual_report, visual_sets


class Command(BaseCommand):
    help = (
        "Measure image search: image -> product on labelled photos (a folder with one "
        "sub-folder per SKU, or a CSV of path,sku) and text -> image on a CSV of query,sku,grade; "
        "without either, on held-out splits of the catalogue. Recall@1/5/10, MRR and nDCG@10, "
        "per category too, for the live model and, side by side, a --candidate model with a "
        "paired significance test. Vectors are computed in memory: nothing live is touched."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--photos", type=Path, help="Folder of SKU sub-folders, or path,sku CSV"
        )
        parser.add_argument("--queries", type=Path, help="CSV of query,sku,grade")
        parser.add_argument(
            "--held-out",
            action="store_true",
            help="Also run the catalogue's held-out splits (the default without --photos/--queries)",
        )
        parser.add_argument(
            "--held-out-share",
            type=float,
            default=visual_sets.HELD_OUT_SHARE,
            help="Share of products held out (default %(default)s; finetune_clip holds out the same)",
        )
        parser.add_argument(
            "--merchant", default="", help="Only this merchant's products (slug); default: all"
        )
        parser.add_argument("--candidate", default="", help="CLIP model (hub id or directory)")
        parser.add_argument("--candidate-revision", default="", help="Pinned revision of it")
        parser.add_argument("--json", type=Path, dest="json_path", help="Write the JSON here")
        parser.add_argument(
            "--html", type=Path, dest="html_path", help="Write the HTML report here"
        )

    def handle(
        self,
        *args,
        photos,
        queries,
        held_out,
        held_out_share,
        merchant,
        candidate,
        candidate_revision,
        json_path,
        html_path,
        **options,
    ):
        if not 0 < held_out_share <= 1:
            raise CommandError("--held-out-share must be above 0 and at most 1")
        catalogue = visual_sets.Catalogue.from_database(merchant)
        if not catalogue.images:
            raise CommandError(
                "The catalogue has no product image"
                + (f" for merchant {merchant!r}" if merchant else "")
                + ": nothing to search in."
            )
        tasks = []
        try:
            if photos:
                tasks.append(visual_sets.labelled_photo_task(photos, catalogue))
            if queries:
                tasks.append(visual_sets.text_query_task(queries, catalogue))
        except (OSError, visual.VisualInputError) as exc:
            raise CommandError(str(exc)) from None
        if held_out or not tasks:
            split = visual_sets.held_out_tasks(catalogue, held_out_share)
            if not split:
                raise CommandError(
                    "No held-out query: raise --held-out-share or give --photos/--queries."
                )
            for task in split:
                task.name = f"{task.name} (held out)"
            tasks += split

        _, live = generations.live_image_encoder_if_any()
        encoders = {"live": live}
        if candidate:
            encoders["candidate"] = clip_encoder_for(candidate, candidate_revision)
        try:
            for encoder in encoders.values():
                encoder.load()
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from None
        names = {
            label: f"{encoder.model_name} @ {encoder.revision[:12]}"
            for label, encoder in encoders.items()
        }
        evaluation = visual.evaluate_models(
            tasks,
            encoders,
            names=names,
            progress=lambda message: self.stderr.write(f"evaluating {message}"),
        )
        self.stdout.write(visual_report.format_table(evaluation))
        if json_path:
            visual_report.write_json(evaluation, json_path)
            self.stdout.write(f"JSON written to {json_path}")
        if html_path:
            visual_report.write_html(evaluation, html_path)
            self.stdout.write(f"HTML report written to {html_path}")
