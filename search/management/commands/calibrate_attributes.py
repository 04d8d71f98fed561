"""`manage.py calibrate_attributes [--target-precision P] [--category C] [--write]`"""

from django.core.management.base import BaseCommand, CommandError

from search.encoding.base import ModelUnavailable
from search.enrichment.calibration import calibrate, judged_samples
from search.enrichment.vocabularies import get_vocabularies, threshold_set


class Command(BaseCommand):
    help = (
        "Choose each zero-shot attribute's threshold per category from the values merchants "
        "typed themselves: the best F1, or the lowest threshold reaching --target-precision. "
        "Prints old and new thresholds with precision and recall; --write stores them (the "
        "admin's attribute vocabularies), where enrichment reads them from. Re-run "
        "`enrich_catalog --redo` afterwards to re-score the catalogue."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--target-precision",
            type=float,
            default=None,
            help="Lowest threshold whose precision reaches this (0..1); default: best F1.",
        )
        parser.add_argument("--category", default="", help="Only this product category.")
        parser.add_argument(
            "--min-samples",
            type=int,
            default=20,
            help="Leave attributes with fewer judged products alone (default %(default)s).",
        )
        parser.add_argument("--write", action="store_true", help="Store the new thresholds.")

    def handle(self, *args, target_precision, category, min_samples, write, **options):
        if target_precision is not None and not 0 < target_precision <= 1:
            raise CommandError("--target-precision must be above 0 and at most 1.")
        try:
            judged = judged_samples(category=category)
        except ModelUnavailable as exc:
            raise CommandError(f"CLIP is needed to score the attributes: {exc}") from exc
        if not judged.samples:
            self.stdout.write(
                "No product has a typed value for an attribute of its category's vocabulary: "
                "nothing to calibrate on."
            )
            return
        vocabularies = get_vocabularies()
        written = 0
        for (product_category, name), samples in sorted(judged.samples.items()):
            current = vocabularies.attribute(product_category, name)
            old = f"{current.threshold:.3f}" if current else "?"
            label = f"{product_category or '(no category)'} / {name}: {len(samples)} judged"
            skipped = judged.out_of_vocabulary.get((product_category, name), 0)
            if skipped:
                label += f" ({skipped} more with values outside the vocabulary)"
            if len(samples) < min_samples:
                self.stdout.write(f"{label}; fewer than {min_samples}, left at {old}")
                continue
            found = calibrate(samples, target_precision=target_precision)
            if found is None:
                self.stdout.write(f"{label}; no threshold reaches the precision, left at {old}")
                continue
            self.stdout.write(
                f"{label}; threshold {old} -> {found.threshold:.3f}: precision "
                f"{found.precision:.3f}, recall {found.recall:.3f}, F1 {found.f1:.3f}"
            )
            if write:
                threshold_set(
                    category=product_category,
                    name=name,
                    threshold=found.threshold,
                    calibration=found.as_dict(),
                )
                written += 1
        if write:
            self.stdout.write(f"{written} threshold(s) stored.")
        else:
            self.stdout.write("Dry run: --write stores these thresholds.")
