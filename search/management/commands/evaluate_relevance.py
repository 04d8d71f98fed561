"""`manage.py evaluate_relevance --queries Q.tsv --qrels QRELS.tsv [--legs ...] [--weights ...] [--json]`"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from search.query.types import LEGS
from search.relevance import evaluate as relevance
from search.vector_index.base import SearchFilter


class Command(BaseCommand):
    help = (
        "Run queries through the search service and print nDCG@10, MRR and recall@10/50 for each "
        "leg alone and for the fused ranking (the settings' weights unless --weights), with the "
        "fused figures per query type. Judgments are TREC qrels with graded labels; documents "
        "are product SKUs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--queries", type=Path, required=True, help="qid<TAB>query[<TAB>type] per line"
        )
        parser.add_argument("--qrels", type=Path, required=True, help="TREC qrels: qid 0 sku grade")
        parser.add_argument(
            "--legs",
            default=",".join(LEGS),
            help=f"Single legs to evaluate, comma-separated (default: {','.join(LEGS)}); fused always runs",
        )
        parser.add_argument(
            "--weights",
            default="",
            help="Fused weights, e.g. image=1,text=1,keywords=1 (legs not named keep the settings' weight)",
        )
        parser.add_argument(
            "--merchant", default="", help="Only this merchant's products (slug); default: all"
        )
        parser.add_argument(
            "--limit", type=int, default=relevance.RESULT_LIMIT, help="Results per query"
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the full evaluation as JSON"
        )

    def handle(
        self,
        *args,
        queries: Path,
        qrels: Path,
        legs: str,
        weights: str,
        merchant: str,
        limit: int,
        as_json: bool,
        **options,
    ):
        try:
            topics = relevance.read_queries(queries)
            judgments = relevance.read_qrels(qrels)
            fused = relevance.parse_weights(weights)
        except (OSError, relevance.RelevanceInputError) as exc:
            raise CommandError(str(exc)) from None
        chosen = [leg.strip() for leg in legs.split(",") if leg.strip()]
        progress = None if as_json else (lambda message: self.stderr.write(f"evaluating {message}"))
        try:
            evaluation = relevance.evaluate(
                topics,
                judgments,
                legs=chosen,
                fused_weights=fused,
                limit=limit,
                search_filter=SearchFilter(merchant=merchant or None),
                progress=progress,
            )
        except relevance.EvaluationError as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            self.stdout.write(json.dumps(evaluation.as_dict(), indent=2))
        else:
            self.stdout.write(relevance.format_table(evaluation))
