import logging
import mimetypes
import uuid
from pathlib import PurePosixPath

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.generic import UpdateView

from core.models import Profile
from core.preferences import preferences_remember


@require_safe
@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches neither the session nor the database."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    # A write then a read of a unique key: proves Redis (the cache, channel layer and broker
    # share it) accepts writes, not only that a socket opens.
    key = f"health:ready:{uuid.uuid4().hex}"
    probe = getattr(cache, "probe", None)  # Redis itself (core/redis_cache.py), not fail-soft
    if probe is not None:
        if not probe(key):
            raise RuntimeError("the value written was not read back")
        return
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("the value written was not read back")
    cache.delete(key)


READINESS_CHECKS = {"database": _check_database, "cache": _check_cache}


@require_safe
@never_cache
def health_ready(request: HttpRequest) -> HttpResponse:
    """Readiness: the database and the cache (Redis in production) answer.

    For a load balancer or orchestrator deciding whether to send traffic: 200 "ready", or 503
    naming what failed (the exception class only: the message may carry a host or a user).
    No login and no session, so probing it never creates a session row.
    """
    failures = []
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure means "not ready", whatever raised it
            logger.warning("readiness check %s failed: %r", name, exc)
            failures.append(f"{name}: {type(exc).__name__}")
    if failures:
        body = "not ready\n" + "\n".join(failures) + "\n"
        return HttpResponse(body, status=503, content_type="text/plain; charset=utf-8")
    return HttpResponse("ready", content_type="text/plain; charset=utf-8")


@require_safe
@login_required
@permission_required(settings.MEDIA_VIEW_PERMISSION, raise_exception=True)
def protected_media(request: HttpRequest, path: str) -> HttpResponse:
    """Uploaded files are client data: only users who may see clients get them (a guest is
    sent to the login page, a user without the permission gets 403).

    In production the proxy sends the bytes (X-Accel-Redirect to an internal location), so a
    Django worker is not tied up streaming files; otherwise Django streams the file itself.
    """
    parts = PurePosixPath(path).parts
    if not parts or any(part in ("..", ".") for part in parts) or path.startswith("/"):
        raise Http404(_("No such file."))
    if parts[0] == "imports":
        # Uploaded imports hold every row of a file: served only by the imports pages, to
        # those who may import (imports/views.py).
        raise Http404(_("No such file."))
    if not default_storage.exists(path):
        raise Http404(_("No such file."))
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if settings.MEDIA_ACCEL_REDIRECT_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT_PREFIX.rstrip("/") + "/" + path
    else:
        response = FileResponse(default_storage.open(path, "rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["language", "time_zone"]


class ProfileView(LoginRequiredMixin, SuccessMessageMixin, UpdateView):
    """/accounts/profile/: the signed-in user's own choices, their language and time zone (pages
    from the next one on; the daily task digest goes out at TASK_DIGEST_HOUR of that zone)."""

    form_class = ProfileForm
    template_name = "registration/profile.html"
    success_url = reverse_lazy("account-profile")
    success_message = gettext_lazy("Your profile was saved.")

    def get_object(self, queryset=None) -> Profile:
        return Profile.objects.get_or_create(user=self.request.user)[0]

    def form_valid(self, form):
        if language := form.cleaned_data["language"]:  # "saved" is said in the new language
            translation.activate(language)
        response = super().form_valid(form)
        preferences_remember(session=self.request.session, profile=self.object)
        return response

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            default_time_zone=settings.TIME_ZONE, digest_hour=settings.TASK_DIGEST_HOUR, **kwargs
        )
