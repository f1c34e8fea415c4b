"""What the live tests share: a logged-in user's session cookie and websocket headers, and the
admin's "add order" form on a real server process."""

import re
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.test import Client as DjangoClient

ORIGIN = "http://testserver"


def session_cookie_for(user) -> str:
    """A session cookie value for `user`, as a browser would hold after logging in."""
    client = DjangoClient()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def ws_headers(*, session: str | None = None, origin: str | None = ORIGIN) -> list:
    headers = []
    if session:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()))
    if origin:
        headers.append((b"origin", origin.encode()))
    return headers


def _cookie_header(cookies: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class AdminOrderForm:
    """The Django admin's "add order" form on one server, as a staff user's browser uses it:
    `open()` GETs the form (session and CSRF cookies, token), `submit()` POSTs it."""

    def __init__(self, server, *, session: str):
        self.url = f"{server.url}/admin/clients/order/add/"
        self.cookies = {settings.SESSION_COOKIE_NAME: session}
        self.token = ""

    def open(self) -> "AdminOrderForm":
        request = urllib.request.Request(self.url, headers={"Cookie": _cookie_header(self.cookies)})
        with urllib.request.urlopen(request, timeout=10) as response:
            html = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        return self

    def submit(self, **fields) -> int:
        """POST the form; returns the HTTP status (302 when the order was saved)."""
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": self.token, "_save": "Save", **fields}
        ).encode()
        post = urllib.request.Request(
            self.url,
            data=body,
            headers={
                "Cookie": _cookie_header(self.cookies),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(post, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as redirect:
            return redirect.code
