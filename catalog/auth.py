"""API tokens that expire: API_TOKEN_TTL seconds after they were issued (0: never).

DRF's Token has a ``created`` time and no expiry; expiry is computed from it, so no schema
change is needed. The token endpoint replaces an expired token with a new one, and replaces
a live one when asked to (``"rotate": true``), which is how a leaked token is retired.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def token_expires_at(token: Token) -> datetime | None:
    ttl = settings.API_TOKEN_TTL
    return token.created + timedelta(seconds=ttl) if ttl > 0 else None


def token_is_expired(token: Token) -> bool:
    expires = token_expires_at(token)
    return expires is not None and expires <= timezone.now()


def token_issue(*, user, rotate: bool = False) -> Token:
    """The user's live token, or a new one when there is none, it expired, or ``rotate``."""
    with transaction.atomic():
        token = Token.objects.select_for_update().filter(user=user).first()
        if token is not None and (rotate or token_is_expired(token)):
            token.delete()
            token = None
        if token is None:
            token = Token.objects.create(user=user)
    return token


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_is_expired(token):
            raise AuthenticationFailed(
                "The token has expired; get a new one from POST /api/v1/auth/token/."
            )
        return user, token
