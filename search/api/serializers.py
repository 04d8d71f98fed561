"""Input and output serializers of the search API, and the outcome's rendering."""

from django.conf import settings
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from config.validation import PlainTextField
from search.api.regions import CropField, FormBooleanField
from search.query.types import ResultItem, SearchOutcome
from search.vector_index.base import SearchFilter


class FiltersSerializer(serializers.Serializer):
    category = serializers.ListField(
        child=PlainTextField(max_length=120),
        required=False,
        max_length=50,
        help_text="One category or several (any of them).",
    )
    brand = serializers.ListField(
        child=PlainTextField(max_length=120),
        required=False,
        max_length=50,
        help_text="One brand or several (any of them).",
    )
    merchant = serializers.SlugField(required=False, help_text="Merchant slug.")
    color = serializers.ListField(
        child=PlainTextField(max_length=60),
        required=False,
        max_length=20,
        help_text=(
            "One colour or several (any of them): the merchant's colour where one was typed, "
            "else the colours derived from the product's images (the palette's names)."
        ),
    )
    attributes = serializers.DictField(
        child=serializers.ListField(child=PlainTextField(max_length=60), max_length=20),
        required=False,
        help_text=(
            'Derived attributes, e.g. {"pattern": ["striped"]}: any of the values of each '
            "attribute named (the merchant's value where one was typed)."
        ),
    )
    price_min = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False
    )
    price_max = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False
    )
    in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise ValidationError("Expected an object of filters.")
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise ValidationError(
                {
                    name: f"Unknown filter; known filters: {', '.join(self.fields)}."
                    for name in unknown
                }
            )
        data = dict(data)
        for many in ("category", "brand", "color"):
            if isinstance(data.get(many), str):
                data[many] = [data[many]]
        return super().to_internal_value(data)

    def validate(self, attrs):
        low, high = attrs.get("price_min"), attrs.get("price_max")
        if low is not None and high is not None and low > high:
            raise ValidationError({"price_min": "price_min is above price_max."})
        return attrs


class LegWeightsSerializer(serializers.Serializer):
    image = serializers.FloatField(min_value=0, max_value=10, required=False)
    text = serializers.FloatField(min_value=0, max_value=10, required=False)
    keywords = serializers.FloatField(min_value=0, max_value=10, required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ValidationError(
                    {name: "Unknown leg; legs are image, text and keywords." for name in unknown}
                )
        return super().to_internal_value(data)


class SearchInputSerializer(serializers.Serializer):
    text = PlainTextField(
        max_length=settings.SEARCH_MAX_TEXT_LENGTH,
        required=False,
        allow_blank=True,
        trim_whitespace=True,
    )
    not_ = PlainTextField(
        max_length=settings.SEARCH_MAX_TEXT_LENGTH,
        required=False,
        allow_blank=True,
        source="negative",
        help_text=f"Negative text: moves the query away from this concept, q' = normalise(q - {settings.SEARCH_NEGATIVE_WEIGHT} * not).",
    )
    filters = FiltersSerializer(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=settings.SEARCH_MAX_LIMIT, default=20)
    offset = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    min_score = serializers.FloatField(
        min_value=-1,
        max_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="Minimum cosine similarity of the image leg.",
    )
    text_weight = serializers.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="Share of the text in a text+photo query (default 0.5).",
    )
    weights = LegWeightsSerializer(
        required=False, help_text="Per-request leg weights for fusion (0 switches a leg off)."
    )
    rerank = serializers.BooleanField(default=False)
    diversity = serializers.FloatField(
        min_value=0,
        max_value=1,
        default=0.0,
        help_text=(
            "Spread the top results over different-looking products (MMR on the image "
            "vectors): 0 keeps the ranking (default), 1 favours difference most."
        ),
    )
    typo_tolerance = serializers.BooleanField(
        default=True,
        help_text=(
            "Correct words the catalogue does not know to the closest ones it does (the "
            "response's `corrected`); false searches the words as typed."
        ),
    )
    crop = CropField(required=False)
    look = FormBooleanField(
        default=False,
        help_text=(
            "Shop the look: detect the items in the photo and answer one group of results per "
            "item (filters, text and limit apply to each); needs an image."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["not"] = self.fields.pop("not_")

    def validate(self, attrs):
        if attrs.get("text_weight") is not None and not self.context.get("has_image"):
            raise ValidationError({"text_weight": "text_weight needs both a text and an image."})
        for name in ("crop", "look"):
            if attrs.get(name) and not self.context.get("has_image"):
                raise ValidationError(
                    {name: f"{name} needs a photo: send it as multipart `image`."}
                )
        if attrs.get("crop") and attrs.get("look"):
            raise ValidationError(
                {
                    "look": "look detects its own boxes in the whole photo: send crop or look, not both."
                }
            )
        if attrs.get("look") and attrs.get("rerank"):
            raise ValidationError({"rerank": "rerank is not available with look."})
        return attrs


class SearchPhotoInputSerializer(SearchInputSerializer):
    image = serializers.FileField(
        required=False, help_text="The shopper's photo: JPEG, PNG or WebP. Kept in memory only."
    )


class ResultSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    title = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    brand = serializers.CharField()
    category = serializers.CharField()
    merchant = serializers.CharField(help_text="Merchant slug.")
    merchant_name = serializers.CharField()
    in_stock = serializers.BooleanField()
    image_id = serializers.IntegerField(allow_null=True)
    image_url = serializers.CharField(allow_null=True)
    thumbnail_url = serializers.CharField(allow_null=True)
    score = serializers.FloatField()
    legs = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Rank of this product in each leg that found it.",
    )
    reranked_by = serializers.CharField(
        allow_null=True, help_text="The model that re-ordered this result, when one did."
    )
    match = serializers.ChoiceField(
        choices=["identifier"],
        allow_null=True,
        help_text=(
            "`identifier`: the query is this product's SKU, GTIN or MPN (case and separators "
            "aside), so it comes first."
        ),
    )
    rules = serializers.ListField(
        child=serializers.CharField(),
        help_text=(
            "Ids of the merchandising rules that placed this result (pin, boost, bury, "
            "click model)."
        ),
    )


class AppliedRuleSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=["synonym", "pin", "boost", "bury", "hide", "click_model"]
    )
    name = serializers.CharField()


class PriceBandSerializer(serializers.Serializer):
    min = serializers.FloatField()
    max = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class FacetsSerializer(serializers.Serializer):
    category = serializers.DictField(child=serializers.IntegerField())
    brand = serializers.DictField(child=serializers.IntegerField())
    color = serializers.DictField(child=serializers.IntegerField())
    attributes = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="Per derived attribute, products per value.",
    )
    price = PriceBandSerializer(many=True)


class RecognisedSerializer(serializers.Serializer):
    category = serializers.ListField(child=serializers.CharField())
    brand = serializers.ListField(child=serializers.CharField())
    colour = serializers.ListField(child=serializers.CharField())


SEARCH_ID_HELP = (
    "This search's id: send it with the click, add_to_cart and purchase events that follow "
    "(POST /api/v1/events/)."
)


class ExperimentTagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    variant = serializers.CharField()


class SearchOutputSerializer(serializers.Serializer):
    search_id = serializers.UUIDField(help_text=SEARCH_ID_HELP)
    query_type = serializers.ChoiceField(choices=["text", "photo", "hybrid", "similar"])
    results = ResultSerializer(many=True)
    total = serializers.IntegerField(help_text="Products that match the filters.")
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    facets = FacetsSerializer()
    legs = serializers.ListField(child=serializers.CharField())
    took_ms = serializers.FloatField()
    stages = serializers.DictField(
        child=serializers.FloatField(),
        help_text=(
            "Milliseconds per stage: decode (reading and checking the shopper's photo, for a "
            "photo query), understand (identifiers, typo correction and recognised words, for "
            "a query with words), encode (CLIP; the product-text and keyword legs run "
            "beside it in a second thread), vector_search (the image leg, then whatever the "
            "product legs still need, totals and facets), hydrate, rerank. They add up to "
            "took_ms."
        ),
    )
    reranked = serializers.BooleanField()
    rerank_model = serializers.CharField(allow_null=True)
    rerank_reason = serializers.CharField(allow_null=True)
    notices = serializers.ListField(child=serializers.CharField())
    corrected = serializers.CharField(
        allow_null=True,
        help_text=(
            "The query the results are for, when words the catalogue does not know were "
            "corrected (null otherwise); send `typo_tolerance: false` to search as typed."
        ),
    )
    recognised = RecognisedSerializer(
        help_text="Words of the query taken as a category, brand or colour (soft boosts)."
    )
    rules = AppliedRuleSerializer(
        many=True,
        help_text=(
            "Merchandising rules that changed this search (synonyms, pins, boosts, buries, "
            "hides, the click model), applied after fusion and before re-ranking."
        ),
    )
    experiment = ExperimentTagSerializer(
        allow_null=True,
        required=False,
        help_text=(
            "The ranking experiment (A/B test) and variant this search ran under; null when "
            "none is running or the visitor sent no X-Visitor-Id (they get the control)."
        ),
    )


def filter_from(data: dict) -> SearchFilter:
    return SearchFilter(
        categories=tuple(data.get("category") or ()),
        brands=tuple(data.get("brand") or ()),
        merchant=data.get("merchant") or None,
        colors=tuple(dict.fromkeys(c.strip().lower() for c in data.get("color") or ())),
        attributes=tuple(
            (name.strip().lower(), tuple(v.strip().lower() for v in values))
            for name, values in sorted((data.get("attributes") or {}).items())
            if values
        ),
        price_min=float(data["price_min"]) if data.get("price_min") is not None else None,
        price_max=float(data["price_max"]) if data.get("price_max") is not None else None,
        in_stock=data.get("in_stock"),
    )


def result_dict(item: ResultItem) -> dict:
    product = item.product
    assert product is not None  # hydrate() drops items without a product
    return {
        "product_id": item.product_id,
        "title": product.title,
        "price": product.price,
        "currency": product.currency,
        "brand": product.brand,
        "category": product.category,
        "merchant": product.merchant.slug,
        "merchant_name": product.merchant.name,
        "in_stock": product.in_stock,
        "image_id": item.image_id,
        "image_url": item.image_url,
        "thumbnail_url": item.thumbnail_url,
        "score": item.score,
        "legs": item.legs,
        "reranked_by": item.reranked_by,
        "match": item.match,
        "rules": item.rules,
    }


def render_outcome(outcome: SearchOutcome, *, limit: int, offset: int) -> dict:
    return {
        "query_type": outcome.query_type,
        "results": [result_dict(item) for item in outcome.items],
        "total": outcome.total,
        "limit": limit,
        "offset": offset,
        "facets": outcome.facets,
        "legs": outcome.legs,
        "took_ms": outcome.took_ms,
        "stages": outcome.stages,
        "reranked": outcome.reranked,
        "rerank_model": outcome.rerank_model,
        "rerank_reason": outcome.rerank_reason,
        "notices": outcome.notices,
        "corrected": outcome.corrected,
        "recognised": {
            "category": outcome.recognised.get("category", []),
            "brand": outcome.recognised.get("brand", []),
            "colour": outcome.recognised.get("colour", []),
        },
        "rules": [{"id": r.id, "kind": r.kind, "name": r.name} for r in outcome.rules],
    }
