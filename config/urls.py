from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import health, login_throttle

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Before admin/: the admin's own login view, behind the failed-login lockout.
    path("admin/login/", login_throttle.admin_login_guard(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("catalog.urls")),
    path("api/v1/", include("search.urls")),
    path("api/v1/", include("webhooks.urls")),
    path("api/v1/", include("analytics.urls")),
    path("api/v1/", include("merchandising.urls")),
    path("", include("config.metrics_urls")),
    path("", include("frontend.urls")),
]

if settings.SERVE_MEDIA:
    # Local media folder only (the demo and single-machine installs); S3 serves its own files.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]

handler400 = "config.api.handler400"
handler403 = "config.api.handler403"
handler404 = "config.api.handler404"
handler500 = "config.api.handler500"
