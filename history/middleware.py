from django.urls import reverse

from history.context import Via, recorded_as


class HistoryMiddleware:
    """Every write during a request is recorded as made through the admin, the API or a page
    (by path), by the request's user. After AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = None

    def __call__(self, request):
        if self.admin_prefix is None:
            self.admin_prefix = reverse("admin:index")
        if request.path.startswith(self.admin_prefix):
            via = Via.ADMIN
        elif request.path.startswith("/api/"):
            via = Via.API
        else:
            via = Via.PAGE
        with recorded_as(via, request=request):
            return self.get_response(request)
