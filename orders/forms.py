from django import forms
from django.utils.translation import gettext_lazy as _

from clients.models import Order
from orders.selectors import DEFAULT_SORT, SORTS


class OrderFilterForm(forms.Form):
    """The list's GET parameters. A junk value is not an error page: the view drops that one
    parameter, says so, and lists as if it had not been given."""

    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All statuses")), *Order.Status.choices], required=False
    )
    client = forms.IntegerField(min_value=1, required=False)
    # Django's CharField refuses a NUL byte (PostgreSQL would refuse it as a parameter).
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    sort = forms.ChoiceField(choices=[(key, key) for key in SORTS], required=False)

    NOTICES = {
        "status": _("There is no such status: showing every status."),
        "client": _("There is no such client: showing every client's orders."),
        "q": _("That search cannot be used (too long, or it holds a control character)."),
        "sort": _("Orders cannot be sorted that way: showing the newest first."),
    }

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or DEFAULT_SORT


class OrderMoveForm(forms.Form):
    """The board's move: the status to put an order in."""

    status = forms.ChoiceField(
        choices=Order.Status.choices,
        error_messages={"invalid_choice": _("That status does not exist: nothing was changed.")},
    )
