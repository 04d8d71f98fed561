from django.urls import path

from search import apis

urlpatterns = [
    path("search/", apis.SearchApi.as_view(), name="search"),
    path(
        "products/<int:product_id>/similar/",
        apis.ProductSimilarApi.as_view(),
        name="product-similar",
    ),
]
