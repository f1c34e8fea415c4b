import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings

from clients.models import Client
from clients.services import trash_purge
from clients.tests.factories import ClientFactory, image_bytes, upload

pytestmark = pytest.mark.django_db


def png_bomb(width=50_000, height=50_000) -> bytes:
    """A tiny PNG whose header declares a huge image (a decompression bomb)."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def post_client(member_client, avatar, **data):
    return member_client.post(
        "/clients/add/", {"name": "Ada", "email": "ada@mail.test", "avatar": avatar, **data}
    )


@pytest.mark.parametrize(
    ("fmt", "ext"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"), ("GIF", "gif")]
)
def test_real_images_are_accepted_under_a_random_name(member_client, fmt, ext):
    response = post_client(
        member_client, upload(image_bytes(fmt), name=f"../../My Photo.{fmt.lower()}")
    )
    assert response.status_code == 302
    stored = Client.objects.get().avatar.name
    assert stored.startswith("avatars/")
    assert stored.endswith(f".{ext}")
    assert "Photo" not in stored
    assert (Path(settings.MEDIA_ROOT) / stored).is_file()


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "cv.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg"),
        (image_bytes("JPEG", (64, 64))[:200], "truncated.jpg"),
        (png_bomb(), "bomb.png"),
        (image_bytes("TIFF"), "scan.tiff"),
    ],
    ids=["renamed-pdf", "svg", "truncated", "decompression-bomb", "tiff"],
)
def test_non_images_and_bad_images_get_a_form_error_and_nothing_is_saved(
    member_client, content, name
):
    response = post_client(member_client, upload(content, name=name))
    assert response.status_code == 200
    assert response.context["form"].errors["avatar"]
    assert not Client.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.*"))


def test_too_many_pixels_is_rejected(member_client):
    response = post_client(member_client, upload(image_bytes("PNG", (4097, 1))))
    assert response.status_code == 200
    assert "4096×4096" in response.context["form"].errors["avatar"][0]


def test_oversize_file_is_rejected(member_client):
    big = image_bytes("PNG", (8, 8)) + b"\0" * (2 * 1024 * 1024)
    response = post_client(member_client, upload(big))
    assert response.status_code == 200
    assert "larger than 2 MB" in response.context["form"].errors["avatar"][0]


def test_replacing_an_avatar_and_purging_its_client_remove_the_files(
    member_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_client(member_client, upload(image_bytes()))
    client = Client.objects.get()
    first = Path(settings.MEDIA_ROOT) / client.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(
            f"/clients/{client.pk}/edit/",
            {
                "name": "Ada",
                "email": "ada@mail.test",
                "avatar": upload(image_bytes("GIF"), "n.gif"),
            },
        )
    client.refresh_from_db()
    second = Path(settings.MEDIA_ROOT) / client.avatar.name
    assert not first.exists()
    assert second.exists()
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(f"/clients/{client.pk}/edit/delete/")
    assert second.exists()  # in the trash: restorable with its avatar
    with django_capture_on_commit_callbacks(execute=True):
        trash_purge()
    assert not second.exists()


def test_list_shows_the_avatar_through_the_protected_url(member_client):
    post_client(member_client, upload(image_bytes()))
    name = Client.objects.get().avatar.name
    html = member_client.get("/clients/").text
    assert f'src="/media/{name}"' in html


def test_logged_in_user_gets_media_and_guest_does_not(client, member):
    c = ClientFactory(avatar=upload(image_bytes()))
    url = f"/media/{c.avatar.name}"
    guest = client.get(url)
    assert guest.status_code == 302
    assert guest["Location"].startswith("/accounts/login/")
    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_a_user_who_may_not_see_clients_gets_no_avatar(client, nobody):
    c = ClientFactory(avatar=upload(image_bytes()))
    client.force_login(nobody)
    assert client.get(f"/media/{c.avatar.name}").status_code == 403


@pytest.mark.parametrize(
    "path", ["../settings.py", "avatars/../../etc/passwd", "avatars/missing.png"]
)
def test_media_view_refuses_traversal_and_unknown_files(member_client, path):
    assert member_client.get(f"/media/{path}").status_code == 404


def test_media_can_be_handed_to_the_proxy(member_client, settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    c = ClientFactory(avatar=upload(image_bytes()))
    response = member_client.get(f"/media/{c.avatar.name}")
    assert response["X-Accel-Redirect"] == f"/protected-media/{c.avatar.name}"
    assert response.content == b""
