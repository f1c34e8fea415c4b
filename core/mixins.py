from django.db import transaction


class AtomicFormMixin:
    """A form view whose write is one transaction: the row and its history entry (history/)
    commit together, once, or not at all (and the after-commit events wait for it)."""

    def form_valid(self, form):
        with transaction.atomic():
            return super().form_valid(form)
