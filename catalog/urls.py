from django.urls import path

from catalog import apis, feed_apis

urlpatterns = [
    path("auth/token/", apis.AuthTokenApi.as_view(), name="auth-token"),
    path(
        "merchant/products/", apis.MerchantProductListCreateApi.as_view(), name="merchant-products"
    ),
    path(
        "merchant/products/bulk/",
        feed_apis.MerchantProductBulkUpsertApi.as_view(),
        name="merchant-products-bulk",
    ),
    path("merchant/images/", feed_apis.MerchantImageListApi.as_view(), name="merchant-images"),
    path(
        "merchant/products/<int:product_id>/image-fetches/",
        feed_apis.MerchantProductImageFetchCreateApi.as_view(),
        name="merchant-product-image-fetches",
    ),
    path(
        "merchant/products/<int:product_id>/image-fetches/<int:fetch_id>/",
        feed_apis.MerchantProductImageFetchDetailApi.as_view(),
        name="merchant-product-image-fetch",
    ),
    path(
        "merchant/products/<int:product_id>/",
        apis.MerchantProductDetailApi.as_view(),
        name="merchant-product",
    ),
    path(
        "merchant/products/<int:product_id>/colors/",
        apis.MerchantProductColorsApi.as_view(),
        name="merchant-product-colors",
    ),
    path(
        "merchant/products/<int:product_id>/images/",
        apis.MerchantProductImageListCreateApi.as_view(),
        name="merchant-product-images",
    ),
    path(
        "merchant/products/<int:product_id>/images/<int:image_id>/",
        apis.MerchantProductImageDetailApi.as_view(),
        name="merchant-product-image",
    ),
]
