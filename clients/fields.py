from django.db import models


class LowercaseEmailField(models.EmailField):
    """An email stored lowercased, whatever the path: forms, admin, API, bulk_create, update()
    and lookups all go through get_prep_value."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value.lower() if isinstance(value, str) else value

    def to_python(self, value):
        value = super().to_python(value)
        return value.strip().lower() if isinstance(value, str) else value


class AvatarField(models.ImageField):
    """An avatar, re-encoded by Pillow when a new file is uploaded (every path: forms, admin,
    API): what is stored holds only the pixels — no EXIF (a phone photo's GPS position, the
    camera, the time), no comments, no bytes trailing the image. A file already stored is left
    alone: an edit of the client never reopens it (clients/validators.py validate_avatar)."""

    def pre_save(self, model_instance, add):
        file = getattr(model_instance, self.attname)
        if file and not file._committed:
            from clients.validators import reencode_image

            file.file = reencode_image(file.file)
        return super().pre_save(model_instance, add)
