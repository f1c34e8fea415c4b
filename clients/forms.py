import re

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Order


class ClientForm(forms.ModelForm):
    """The client's fields. The rules themselves (example.com, phone, avatar, unique email) live
    on the model fields, so the admin and the API apply them too."""

    class Meta:
        model = Client
        fields = ["name", "email", "phone", "avatar"]
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
            "avatar": forms.ClearableFileInput(
                attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}
            ),
        }
        # The labels Django would derive from the field names, here so that they translate
        # (a verbose_name on the model field would need a migration).
        labels = {
            "name": _("Name"),
            "email": _("Email"),
            "phone": _("Phone"),
            "avatar": _("Avatar"),
        }
        help_texts = {
            "phone": _("Optional. Digits, spaces and + - ( )."),
            "avatar": _("Optional. JPEG, PNG, WebP or GIF, up to 2 MB and 4096×4096 px."),
        }

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class ClientMergeForm(forms.Form):
    """The two clients of a merge, by id. Whether they can be merged (two different clients
    that both still exist) is decided by the service, in its transaction, not here: a check
    made before the rows are locked could be out of date by the time they are."""

    source = forms.IntegerField(
        min_value=1, error_messages={"required": _("Choose the duplicate to merge away.")}
    )
    target = forms.IntegerField(
        min_value=1, error_messages={"required": _("Choose the client to keep.")}
    )


# --- Orders ---------------------------------------------------------------------------------


class AmountField(forms.DecimalField):
    """An amount as people type it in their language: "1 234,56" in Russian, "1,234.56" in
    English, as well as "1234.56". Django's `localize` reads the language's decimal mark, but it
    drops the thousands separator only under USE_THOUSAND_SEPARATOR, which would also group
    every bare number the templates print (ids in URLs and data attributes). Here a separator
    counts only between groups of three digits, so an English "12,50" is an error, not 1250."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(localize=True, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
            # Decimal() reads "12_50" as 1250 and "1e3" as 1000: nobody types an amount so.
            if re.search(r"[_eE]", value):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            separator = formats.get_format("THOUSAND_SEPARATOR")
            decimal = re.escape(formats.get_format("DECIMAL_SEPARATOR"))
            # A space of any width where the language groups with one (Russian: U+00A0).
            marks = " \xa0\u202f" if separator.isspace() else re.escape(separator)
            if re.fullmatch(rf"-?\d{{1,3}}([{marks}]\d{{3}})+({decimal}\d*)?", value):
                value = re.sub(f"[{marks}]", "", value)
        return super().to_python(value)


class OrderForm(forms.ModelForm):
    """An order's fields. Amount (>= 0, 2 places) and status (one of Order.Status) are checked
    by the model fields, so the admin and the API apply the same rules."""

    class Meta:
        model = Order
        fields = ["title", "amount", "status"]
        field_classes = {"amount": AmountField}
        widgets = {
            "title": forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
            "amount": forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        }
        labels = {"title": _("Title"), "amount": _("Amount"), "status": _("Status")}
        help_texts = {"amount": _("Not negative, up to 2 decimal places.")}


class OrderStatusForm(forms.ModelForm):
    """The quick status change on the client page."""

    class Meta:
        model = Order
        fields = ["status"]
        labels = {"status": _("Status")}
