"""Search throttles: anonymous shoppers are allowed, within limits; a token raises them.

Photo queries cost a full image decode and a model pass, so their scope is stricter;
re-ranking calls a vision-language model and has a scope of its own.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from config.clients import client_address


class _AddressThrottle(SimpleRateThrottle):
    def get_ident(self, request):
        # Not DRF's own: with NUM_PROXIES unset it takes X-Forwarded-For as the client chose it.
        return client_address(request)


class _SearchThrottle(_AddressThrottle):
    kind = ""

    def __init__(self):  # the scope (anonymous or token) is chosen per request
        pass

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return f"throttle_{self.scope}_{ident}"

    def allow_request(self, request, view):
        if not self.applies(request):
            return True
        audience = "user" if request.user and request.user.is_authenticated else "anon"
        self.scope = f"search_{self.kind}_{audience}"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self):
        # Read the rates now rather than at import, so a settings change takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES[str(self.scope)]

    def applies(self, request) -> bool:
        raise NotImplementedError


def _has_photo(request) -> bool:
    return bool(
        request.content_type
        and request.content_type.startswith("multipart/")
        and "image" in request.FILES
    )


class SearchTextThrottle(_SearchThrottle):
    kind = "text"

    def applies(self, request) -> bool:
        return not _has_photo(request)


class SearchPhotoThrottle(_SearchThrottle):
    kind = "photo"

    def applies(self, request) -> bool:
        return _has_photo(request)


class RerankThrottle(_AddressThrottle):
    """Counted only for requests that ask for re-ranking; checked by the view itself."""

    scope = "rerank"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        ident = (
            f"user-{request.user.pk}"
            if request.user and request.user.is_authenticated
            else self.get_ident(request)
        )
        return f"throttle_rerank_{ident}"
