from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("catalog.urls")),
    path("api/v1/", include("search.urls")),
    path("", include("config.metrics_urls")),
    path("", include("frontend.urls")),
]

if settings.SERVE_MEDIA:
    # Local media folder only (the demo and single-machine installs); S3 serves its own files.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]

handler404 = "config.api.handler404"
handler500 = "config.api.handler500"
