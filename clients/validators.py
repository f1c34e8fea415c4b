"""Validation rules for client data, attached to the model fields so that every path that
validates — the app's forms, the admin, the API — applies the same rule."""

import io
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

BLOCKED_EMAIL_DOMAIN = "example.com"

AVATAR_MAX_BYTES = 2 * 1024 * 1024
AVATAR_MAX_SIDE = 4096
# Pillow format name -> the extension we store the file under.
AVATAR_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def reject_example_domain(email: str) -> None:
    """example.com is reserved for documentation: addresses there reach nobody."""
    domain = email_domain(email)
    if domain == BLOCKED_EMAIL_DOMAIN or domain.endswith("." + BLOCKED_EMAIL_DOMAIN):
        raise ValidationError(
            _(
                "Addresses at example.com are placeholders and reach nobody; "
                "enter the client's real email."
            ),
            code="blocked_domain",
        )


validate_phone = RegexValidator(
    regex=r"^(?=.*\d)[\d\s+\-()]+$",
    message=gettext_lazy("Enter a phone number using digits, spaces and + - ( ) only."),
    code="invalid_phone",
)


def validate_avatar(file) -> None:
    """Accept only a real JPEG/PNG/WebP/GIF that Pillow decodes, within size limits.

    The header is read first, so a decompression bomb is refused by its declared dimensions
    before any pixel is decoded; then the whole image is decoded, which catches truncated files.
    Only a new upload is checked: the file of an avatar already stored was checked when it came
    (and re-encoded, clients/fields.py), and one gone missing from the disk must not make the
    client's other fields uneditable.
    """
    if getattr(file, "_committed", False):
        return
    if file.size > AVATAR_MAX_BYTES:
        raise ValidationError(_("The image is larger than 2 MB."), code="too_large")
    position = file.tell()
    try:
        file.seek(0)
        with Image.open(file) as image:
            if image.format not in AVATAR_FORMATS:
                raise ValidationError(
                    _("Upload a JPEG, PNG, WebP or GIF image."), code="invalid_format"
                )
            width, height = image.size
            if width > AVATAR_MAX_SIDE or height > AVATAR_MAX_SIDE:
                raise ValidationError(
                    _("The image is %(width)d×%(height)d px; the limit is %(side)d×%(side)d.")
                    % {"width": width, "height": height, "side": AVATAR_MAX_SIDE},
                    code="too_many_pixels",
                )
            image.load()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("The file is not a readable image (JPEG, PNG, WebP or GIF)."), code="invalid_image"
        ) from None
    finally:
        file.seek(position)


def reencode_image(file) -> ContentFile:
    """The image's pixels saved again in its own format by Pillow (validated before): metadata
    (EXIF, GPS, comments, ICC aside from the pixels) and any bytes after the image dropped. A
    photo's EXIF orientation is applied first, so it still shows upright."""
    file.seek(0)
    with Image.open(file) as image:
        kind = image.format
        frames = getattr(image, "n_frames", 1)
        if kind == "GIF" and frames > 1:
            out = io.BytesIO()
            image.save(out, "GIF", save_all=True, loop=image.info.get("loop", 0))
        else:
            upright = ImageOps.exif_transpose(image)
            if kind == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
                upright = upright.convert("RGB")
            out = io.BytesIO()
            options = {"quality": 90} if kind in ("JPEG", "WEBP") else {}
            upright.save(out, kind, **options)
    return ContentFile(out.getvalue(), name=getattr(file, "name", None))


def avatar_upload_to(instance, filename: str) -> str:
    """A random name, never the uploader's: no path tricks, no leaked file names. The extension
    follows the decoded format (validated before saving), not the uploaded name."""
    file = instance.avatar.file
    position = file.tell()
    try:
        file.seek(0)
        with Image.open(file) as image:
            extension = AVATAR_FORMATS.get(image.format, "img")
    except (UnidentifiedImageError, OSError):
        extension = "img"
    finally:
        file.seek(position)
    return f"avatars/{uuid.uuid4().hex}.{extension}"
