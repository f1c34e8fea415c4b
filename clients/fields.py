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
