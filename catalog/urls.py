from django.urls import path

from catalog import apis

urlpatterns = [
    path("auth/token/", apis.AuthTokenApi.as_view(), name="auth-token"),
    path(
        "merchant/products/", apis.MerchantProductListCreateApi.as_view(), name="merchant-products"
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
