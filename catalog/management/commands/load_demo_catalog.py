"""Load the generated sample catalogue and a demo merchant login (idempotent)."""

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog import services
from catalog.models import Merchant, Product
from catalog.sample_data import create_sample_product, generate_products

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105  (a published demo login, local only)


class Command(BaseCommand):
    help = "Create the demo merchants, a demo login (demo / demo-password) and a sample catalogue."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=56)

    def handle(self, *args, products: int, **options):
        if settings.PRODUCTION:
            # The demo login's password is published in the README: a staff account anyone
            # can log in to.
            raise CommandError(
                "load_demo_catalog creates the published demo login (demo / demo-password) "
                "and refuses to run with DJANGO_ENV=production."
            )
        user = User.objects.filter(username=DEMO_USER).first()
        if user is None:
            user = services.user_create(username=DEMO_USER, password=DEMO_PASSWORD)
        shops = []
        for name in ("Harbour Outfitters", "Maple Home"):
            merchant = Merchant.objects.filter(name=name).first() or services.merchant_create(
                name=name, owner=user
            )
            shops.append(merchant)
        created = 0
        for number, sample in enumerate(generate_products(products, featured=True)):
            merchant = (
                shops[0]
                if sample.category not in ("mugs", "lamps", "chairs", "kettles")
                else shops[1]
            )
            if Product.objects.filter(merchant=merchant, sku=sample.sku).exists():
                continue
            with transaction.atomic():
                create_sample_product(merchant, sample, images=2 if number % 4 == 0 else 1)
            created += 1
            self.stdout.write(f"\r{created} product(s) loaded", ending="")
        self.stdout.write(
            f"\nSample catalogue ready: {Product.objects.count()} products; login {DEMO_USER} / {DEMO_PASSWORD}"
        )
