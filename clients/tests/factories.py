import io
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from clients.models import Client, Order
from clients.permissions import role_group


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("secret-pass-123")

    @factory.post_generation
    def roles(self, create, names, **kwargs):
        """UserFactory(roles=["Sales"]): the groups of clients/permissions.py, made by the
        roles migration."""
        if create and names:
            # A transactional test flushes the tables when it ends, the migration's groups too.
            self.groups.add(*(role_group(name) for name in names))


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"client{n}@mail.test")
    phone = "+49 30 1234567"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    client = factory.SubFactory(ClientFactory)
    title = factory.Sequence(lambda n: f"Order {n}")
    amount = Decimal("100.00")
    status = Order.Status.NEW


def image_bytes(fmt="PNG", size=(8, 8)) -> bytes:
    """A real image file's bytes, small enough for any avatar check."""
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, fmt)
    return buffer.getvalue()


def upload(content: bytes, name="avatar.png", content_type="image/png"):
    """`content` as a browser uploads it in a form."""
    return SimpleUploadedFile(name, content, content_type=content_type)
