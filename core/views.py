import mimetypes
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@require_safe
@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches neither the session nor the database."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


@require_safe
@login_required
def protected_media(request: HttpRequest, path: str) -> HttpResponse:
    """Uploaded files are client data: only logged-in users get them.

    In production the proxy sends the bytes (X-Accel-Redirect to an internal location), so a
    Django worker is not tied up streaming files; otherwise Django streams the file itself.
    """
    parts = PurePosixPath(path).parts
    if not parts or any(part in ("..", ".") for part in parts) or path.startswith("/"):
        raise Http404("No such file.")
    if not default_storage.exists(path):
        raise Http404("No such file.")
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if settings.MEDIA_ACCEL_REDIRECT_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT_PREFIX.rstrip("/") + "/" + path
    else:
        response = FileResponse(default_storage.open(path, "rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
