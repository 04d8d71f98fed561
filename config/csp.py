"""Content-Security-Policy on every response.

Everything the storefront, the admin and the API docs run comes from this origin: no inline
script, no inline style (Swagger UI's page aside, see INLINE_STYLE_PATHS), no other host (Swagger UI is served from drf-spectacular-sidecar,
not a CDN). Images may also come from the S3 bucket or CDN the storage settings name
(presigned or public URLs), and from data:/blob: (the shopper's own photo preview, Swagger
UI's icons). A page that breaks under this policy is the bug; tests/frontend runs the pages
in Chromium with the policy on and fails on any violation.
"""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def _image_origins() -> list[str]:
    origins = []
    if settings.AWS_S3_CUSTOM_DOMAIN:
        origins.append(f"https://{settings.AWS_S3_CUSTOM_DOMAIN}")
    if settings.AWS_STORAGE_BUCKET_NAME:
        endpoint = settings.AWS_S3_ENDPOINT_URL
        if endpoint:
            parts = urlsplit(endpoint)
            origins.append(f"{parts.scheme}://{parts.netloc}")
            origins.append(f"{parts.scheme}://{settings.AWS_STORAGE_BUCKET_NAME}.{parts.netloc}")
        else:
            origins.append(f"https://{settings.AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com")
            origins.append(f"https://{settings.AWS_STORAGE_BUCKET_NAME}.s3.*.amazonaws.com")
    media = urlsplit(settings.MEDIA_URL)
    if media.scheme and media.netloc:
        origins.append(f"{media.scheme}://{media.netloc}")
    return origins


# Swagger UI injects a <style> element at start; its content changes with each release, so
# the docs page (and only it) allows inline styles rather than one release's hash. Scripts
# stay 'self' there too.
INLINE_STYLE_PATHS = ("/api/docs/",)


def policy(path: str = "/") -> str:
    styles = ["'self'"]
    if path.startswith(INLINE_STYLE_PATHS):
        styles.append("'unsafe-inline'")
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": styles,
        "img-src": ["'self'", "data:", "blob:", *_image_origins()],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CSP_ENABLED and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy(request.path)
        return response
