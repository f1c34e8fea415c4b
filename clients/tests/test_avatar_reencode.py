"""Avatars are stored re-encoded (EXIF, GPS and trailing bytes dropped), and checked only when
a new file is uploaded: a client whose avatar file went missing can still be edited (issue 17,
input edges)."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from clients.models import Client
from clients.tests.factories import ClientFactory, upload

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo_with_gps(size=(40, 20), orientation=None) -> bytes:
    """A JPEG as a phone writes it: the camera, a GPS position, maybe an orientation."""
    image = Image.new("RGB", size, "teal")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:12:01 10:00:00"  # DateTime
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    if orientation:
        exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def stored(client: Client) -> bytes:
    return (Path(settings.MEDIA_ROOT) / client.avatar.name).read_bytes()


def test_a_photos_exif_and_gps_are_not_stored(member_client):
    data = photo_with_gps()
    assert b"PhoneMaker" in data  # the upload carries them
    response = member_client.post(
        "/clients/add/",
        {"name": "Ada", "email": "ada@mail.test", "avatar": upload(data, "me.jpg", "image/jpeg")},
    )
    assert response.status_code == 302
    kept = stored(Client.objects.get())
    assert b"PhoneMaker" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert image.format == "JPEG"
        assert image.size == (40, 20)
        assert not image.getexif()


def test_bytes_after_the_image_are_not_stored(member_client):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, "PNG")
    data = buffer.getvalue() + b"<?php system($_GET['c']); ?>"
    member_client.post(
        "/clients/add/", {"name": "Ada", "email": "ada@mail.test", "avatar": upload(data)}
    )
    assert b"<?php" not in stored(Client.objects.get())


def test_a_rotated_photo_is_stored_upright(member_client):
    data = photo_with_gps(size=(40, 20), orientation=6)  # "rotate 90° clockwise to view"
    member_client.post(
        "/clients/add/",
        {"name": "Ada", "email": "ada@mail.test", "avatar": upload(data, "me.jpg", "image/jpeg")},
    )
    with Image.open(io.BytesIO(stored(Client.objects.get()))) as image:
        assert image.size == (20, 40)


def test_an_animated_gif_keeps_its_frames(member_client):
    frames = [Image.new("RGB", (8, 8), color) for color in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], loop=0)
    member_client.post(
        "/clients/add/",
        {
            "name": "Ada",
            "email": "ada@mail.test",
            "avatar": upload(buffer.getvalue(), "a.gif", "image/gif"),
        },
    )
    with Image.open(io.BytesIO(stored(Client.objects.get()))) as image:
        assert image.n_frames == 3


def test_the_api_stores_it_re_encoded_too(staff):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(staff)
    client = ClientFactory()
    avatar = upload(photo_with_gps(), "me.jpg", "image/jpeg")
    response = api.patch(f"/api/clients/{client.pk}/", {"avatar": avatar}, format="multipart")
    assert response.status_code == 200, response.content
    client.refresh_from_db()
    assert b"PhoneMaker" not in stored(client)


def test_a_client_whose_avatar_file_went_missing_can_still_be_edited(member_client):
    member_client.post(
        "/clients/add/",
        {
            "name": "Ada",
            "email": "ada@mail.test",
            "avatar": upload(photo_with_gps(), "me.jpg", "image/jpeg"),
        },
    )
    client = Client.objects.get()
    (Path(settings.MEDIA_ROOT) / client.avatar.name).unlink()  # lost with a disk, say
    response = member_client.post(
        f"/clients/{client.pk}/edit/", {"name": "Ada Lovelace", "email": "ada@mail.test"}
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "Ada Lovelace"
