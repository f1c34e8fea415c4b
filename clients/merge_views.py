"""The merge page: pick the duplicate and the client to keep, then merge them.

The choice is made with links, not a <select> (100k clients) nor a script (the CSP forbids
inline scripts and nothing here needs one): a search lists candidates, each with "Merge away"
and "Keep" links that put its id in the URL (`?source=` / `?target=`), so a choice survives
the next search. Once both are chosen, one POST form with the two ids does the merge.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.generic import FormView

from clients.forms import ClientMergeForm
from clients.models import Client
from clients.selectors import with_totals_for_page
from clients.services import MergeError, can_merge_clients, client_merge

CANDIDATES = 20


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


class ClientMergeView(LoginRequiredMixin, UserPassesTestMixin, FormView):
    """Staff, or users with `clients.merge_client`; anyone else logged in gets a 403."""

    form_class = ClientMergeForm
    template_name = "clients/client_merge.html"

    def test_func(self) -> bool:
        return can_merge_clients(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        source_id, target_id = _int(data.get("source")), _int(data.get("target"))
        chosen = {
            c.pk: c
            for c in Client.objects.filter(pk__in=[source_id, target_id]).with_order_totals()
        }
        source, target = chosen.get(source_id), chosen.get(target_id)
        q = data.get("q")
        if q is None and source is not None:
            q = source.name  # coming from a client's page: its namesakes are the likely dupes
        q = (q or "").strip()

        def url(**params) -> str:
            params = {k: v for k, v in params.items() if v}
            return reverse("clients:merge") + (f"?{urlencode(params)}" if params else "")

        candidates = with_totals_for_page(Client.objects.search(q)[: CANDIDATES + 1]) if q else []
        for c in candidates:
            c.merge_away_url = url(q=q, source=c.pk, target=target and target.pk)
            c.keep_url = url(q=q, source=source and source.pk, target=c.pk)
        context.update(
            q=q,
            source=source,
            target=target,
            candidates=candidates[:CANDIDATES],
            more_candidates=len(candidates) > CANDIDATES,
            clear_source_url=url(q=q, target=target and target.pk),
            clear_target_url=url(q=q, source=source and source.pk),
            swap_url=url(q=q, source=target and target.pk, target=source and source.pk),
        )
        return context

    def form_valid(self, form):
        try:
            result = client_merge(
                source_id=form.cleaned_data["source"], target_id=form.cleaned_data["target"]
            )
        except MergeError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        moved = result.orders_moved
        messages.success(
            self.request,
            f"Merged “{result.source_name}” into “{result.target.name}”: "
            f"{moved} order{'s' if moved != 1 else ''} moved.",
        )
        return redirect("clients:detail", result.target.pk)
