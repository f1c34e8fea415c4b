"""The import pages' forms: the upload, the choice of columns (with the duplicate rule) that
checks the file again, and the commit. What a file may hold and what it does is the engine's
(imports/services.py); these only carry the user's choices to it."""

from django import forms
from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from imports.columns import COLUMNS
from imports.models import Import

# The browser's file picker offers these first; the server reads the bytes, not the name.
ACCEPT = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ON_DUPLICATE_HELP = _(
    "A client already exists when the CRM has their email (in any case). “Skip” leaves them "
    "as they are; “Update” writes the file’s name and phone over theirs, and a blank cell "
    "changes nothing. Either way no client is ever created twice."
)


def _on_duplicate_field(initial: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Clients that already exist"),
        choices=Import.OnDuplicate.choices,
        initial=initial,
        widget=forms.RadioSelect,
        help_text=ON_DUPLICATE_HELP,
    )


class ImportUploadForm(forms.Form):
    """The file, and for clients what to do with the ones the CRM has already."""

    file = forms.FileField(
        label=_("File"),
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
        error_messages={
            "required": _("Choose a .csv file or an .xlsx workbook."),
            "empty": _("The file is empty."),  # the engine's own words for it
        },
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        # Read at each request, not at import: the limits are settings (tests change them).
        self.fields["file"].help_text = _(
            "A .csv file or an .xlsx workbook (its first sheet), up to %(mb)s MB and "
            "%(rows)s rows. Nothing is saved until you have seen the preview and confirmed."
        ) % {
            "mb": settings.IMPORT_MAX_MB,
            "rows": number_format(settings.IMPORT_MAX_ROWS, force_grouping=True),
        }
        if kind == Import.Kind.CLIENTS:
            self.fields["on_duplicate"] = _on_duplicate_field(Import.OnDuplicate.SKIP)


def column_letter(index: int) -> str:
    """0 → "A", 25 → "Z", 26 → "AA": the column as a spreadsheet names it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class ImportMappingForm(forms.Form):
    """One menu a field, listing the file's columns: which column fills it, or none. For
    clients, the duplicate rule too. Submitting it checks the file again."""

    prefix = "map"

    def __init__(self, *args, batch: Import, header: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = batch.kind
        self.header = header
        options = [
            (str(index), f"{column_letter(index)} · {text or '—'}")
            for index, text in enumerate(header)
        ]
        for column in COLUMNS[batch.kind]:
            chosen = batch.mapping.get(column.field)
            self.fields[column.field] = forms.ChoiceField(
                label=column.label,
                # A required field cannot be "not imported": its menu asks for a column.
                choices=[
                    ("", _("Choose a column") if column.required else _("Not imported")),
                    *options,
                ],
                required=column.required,
                initial="" if chosen is None else str(chosen),
                error_messages={"required": _("Choose the column that holds this field.")},
            )
        if batch.kind == Import.Kind.CLIENTS:
            self.fields["on_duplicate"] = _on_duplicate_field(batch.on_duplicate)

    def clean(self):
        cleaned = super().clean()
        # The engine would quietly give a column chosen twice to the first field only: say so.
        seen: dict[str, str] = {}
        for column in COLUMNS[self.kind]:
            value = cleaned.get(column.field)
            if not value:
                continue
            if value in seen:
                self.add_error(
                    column.field,
                    _("This column already fills “%(field)s”: a column fills one field.")
                    % {"field": seen[value]},
                )
            else:
                seen[value] = column.label
        return cleaned

    @property
    def mapping(self) -> dict[str, int]:
        """The chosen columns, as the engine takes them (field → column index)."""
        return {
            column.field: int(self.cleaned_data[column.field])
            for column in COLUMNS[self.kind]
            if self.cleaned_data.get(column.field)
        }


class ImportCommitForm(forms.Form):
    """The confirmation; with invalid rows, the import goes ahead only if this box is ticked."""

    skip_invalid = forms.BooleanField(
        label=_("Import the valid rows and skip the invalid ones"), required=False
    )
