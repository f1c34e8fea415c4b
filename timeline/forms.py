import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from timeline.models import NOTE_MAX_LENGTH, Note, Task
from timeline.services import assignable_users


class NoteForm(forms.ModelForm):
    class Meta:
        model = Note
        fields = ["body"]
        widgets = {
            "body": forms.Textarea(
                attrs={"rows": 3, "maxlength": NOTE_MAX_LENGTH, "placeholder": _("Add a note…")}
            )
        }
        help_texts = {
            "body": _("**bold**, lists (- or 1.) and links; anything else shows as typed."),
        }

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("Write something first: the note is empty."))
        return body


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return user.get_full_name() or user.get_username()


def default_due() -> datetime.datetime:
    """Tomorrow at 09:00, local time: the usual "call back tomorrow"."""
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(9)))


class TaskForm(forms.ModelForm):
    assignee = UserChoiceField(queryset=None, label=_("Assignee"))

    class Meta:
        model = Task
        fields = ["title", "due_at", "assignee"]
        widgets = {
            "title": forms.TextInput(
                attrs={"autocomplete": "off", "placeholder": _("Send the quote")}
            ),
            "due_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_users().order_by("username")

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError(_("Give the task a title."))
        return title

    def clean_due_at(self) -> datetime.datetime:
        due_at = self.cleaned_data["due_at"]
        try:
            due_at.astimezone(datetime.UTC)  # stored in UTC: year 1 at 00:30 in Berlin is not
        except OverflowError:
            raise forms.ValidationError(_("Enter a date between the years 1 and 9999.")) from None
        return due_at


class TaskDoneForm(forms.Form):
    done = forms.BooleanField(required=False)
