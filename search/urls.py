from django.urls import path

from search.api.detect import SearchDetectApi
from search.api.drafts import MerchantProductDraftApi
from search.api.search import SearchApi
from search.api.similar import ProductSimilarApi

urlpatterns = [
    path("search/", SearchApi.as_view(), name="search"),
    path("search/detect/", SearchDetectApi.as_view(), name="search-detect"),
    path(
        "products/<int:product_id>/similar/",
        ProductSimilarApi.as_view(),
        name="product-similar",
    ),
    path(
        "merchant/products/<int:product_id>/draft/",
        MerchantProductDraftApi.as_view(),
        name="merchant-product-draft",
    ),
]
