"""factory_boy factories for the catalogue. Writes that matter go through services in tests;
these build the surrounding rows."""

import io
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from PIL import Image, ImageEnhance

from catalog import services
from catalog.models import Merchant, MerchantMembership, Product


def jpeg_bytes(colour=(200, 30, 40), size=(64, 48), quality=90) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def recoloured_copy(data: bytes) -> bytes:
    """A near-duplicate of an image: trimmed a few pixels, three-quarter size, more saturated,
    re-encoded (what a merchant uploading the same photo again from elsewhere sends)."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    width, height = image.size
    image = image.crop((4, 3, width - 3, height - 4)).resize((width * 3 // 4, height * 3 // 4))
    image = ImageEnhance.Color(image).enhance(1.4)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


def png_bytes(colour=(40, 90, 200, 255), size=(48, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, format="PNG")
    return out.getvalue()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-1")


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MerchantMembership

    merchant = factory.SubFactory(MerchantFactory)
    user = factory.SubFactory(UserFactory)
    role = MerchantMembership.Role.OWNER


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    merchant = factory.SubFactory(MerchantFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = factory.Sequence(lambda n: f"Product {n}")
    brand = "Acme"
    category = "jackets"
    price = Decimal("49.90")
    currency = "USD"


def merchant_with_owner(**kwargs):
    """A merchant and its owner, made through the onboarding service."""
    user = UserFactory()
    merchant = services.merchant_create(
        name=kwargs.pop("name", f"Shop of {user.username}"), owner=user, **kwargs
    )
    return merchant, user
