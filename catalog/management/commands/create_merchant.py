"""Onboard a merchant from the command line: `create_merchant NAME --owner USERNAME`."""

import sys

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from catalog import services


class Command(BaseCommand):
    help = "Create a merchant and its owner account; print the owner's API token."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The merchant's display name")
        parser.add_argument(
            "--owner", required=True, help="Username of the owner (created if missing)"
        )
        parser.add_argument("--slug", default="", help="URL name (default: from the name)")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the owner's password from standard input (else the account has no password and uses the token)",
        )

    def handle(self, *args, name, owner, slug, email, password_stdin, **options):
        password = sys.stdin.readline().rstrip("\n") if password_stdin else None
        if password_stdin and not password:
            raise CommandError("--password-stdin was given but standard input was empty.")
        try:
            with transaction.atomic():
                user = get_user_model().objects.filter(username=owner).first()
                if user is None:
                    user = services.user_create(username=owner, password=password, email=email)
                elif password:
                    user.set_password(password)
                    user.save(update_fields=["password"])
                merchant = services.merchant_create(name=name, owner=user, slug=slug)
                token, _ = Token.objects.get_or_create(user=user)
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        self.stderr.write(
            f"Merchant {merchant.name!r} ({merchant.slug}) created; owner {user.username}."
        )
        self.stdout.write(token.key)
