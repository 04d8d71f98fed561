from django.urls import path

from search.api.search import SearchApi
from search.api.similar import ProductSimilarApi

urlpatterns = [
    path("search/", SearchApi.as_view(), name="search"),
    path(
        "products/<int:product_id>/similar/",
        ProductSimilarApi.as_view(),
        name="product-similar",
    ),
]
