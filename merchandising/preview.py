"""The admin's preview: one query's results without and with the rules, side by side."""

from dataclasses import dataclass, field, replace

from django import forms

from catalog import selectors as catalog_selectors
from merchandising.models import Rule
from search.encoding.base import ModelUnavailable
from search.query.service import search
from search.query.types import ResultItem, SearchQuery
from search.vector_index.base import SearchFilter, VectorStoreUnavailable


class PreviewForm(forms.Form):
    q = forms.CharField(label="Query", max_length=200)
    merchant: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None,
        required=False,
        to_field_name="slug",
        empty_label="Whole shop",
        help_text="A merchant's storefront: its own pins, boosts and synonyms apply there.",
    )
    category = forms.CharField(max_length=120, required=False, label="Category filter")
    limit = forms.IntegerField(
        min_value=1, max_value=50, required=False, help_text="Results per column (default 12)."
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        merchant_field = self.fields["merchant"]
        assert isinstance(merchant_field, forms.ModelChoiceField)
        merchant_field.queryset = catalog_selectors.merchants_for_user(user=user)


@dataclass
class Row:
    item: ResultItem
    before: int | None  # its position without the rules (None: not on that page)
    position: int = 0

    @property
    def move(self) -> str:
        """ "new", "up", "down" or "" (same place), for the badge beside the result."""
        if self.before is None:
            return "new"
        if self.before > self.position:
            return "up"
        return "down" if self.before < self.position else ""


@dataclass
class Plain:
    item: ResultItem
    after: int | None  # its position with the rules (None: hidden, or pushed off the page)


@dataclass
class Comparison:
    without: list[Plain] = field(default_factory=list)
    with_rules: list[Row] = field(default_factory=list)
    rules: list = field(default_factory=list)  # (AppliedRule, kind label)
    error: str | None = None


def compare(form: PreviewForm) -> Comparison:
    data = form.cleaned_data
    merchant = data.get("merchant")
    query = SearchQuery(
        text=data["q"],
        filter=SearchFilter(
            categories=(data["category"],) if data.get("category") else (),
            merchant=merchant.slug if merchant else None,
        ),
        limit=data.get("limit") or 12,
    )
    try:
        plain = search(replace(query, rules=False))
        ruled = search(query)
    except (ModelUnavailable, VectorStoreUnavailable) as exc:
        return Comparison(error=f"Search is not available: {exc}")
    positions = {item.product_id: number for number, item in enumerate(plain.items, start=1)}
    after = {item.product_id: number for number, item in enumerate(ruled.items, start=1)}
    labels = dict(Rule.Kind.choices)
    return Comparison(
        without=[Plain(item, after.get(item.product_id)) for item in plain.items],
        with_rules=[
            Row(item, positions.get(item.product_id), number)
            for number, item in enumerate(ruled.items, start=1)
        ],
        rules=[(rule, labels.get(rule.kind, rule.kind)) for rule in ruled.rules],
    )
