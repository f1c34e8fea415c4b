"""A tiny cookie-keeping HTTP client for the end-to-end stack test: it talks to the proxy like a
browser on HTTPS would (X-Forwarded-Proto, Origin, Referer). Standard library only."""

import http.client
import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from core.testing import multipart


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


@dataclass
class Browser:
    """Keeps cookies, never follows redirects, and presents itself as an HTTPS page of the
    proxy's origin: the TLS terminator in front of nginx would add X-Forwarded-Proto."""

    port: int
    https: bool = True
    # The address the connection comes from (any of 127.0.0.0/8 on Linux): a second client.
    source: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    cookie_attributes: dict[str, dict] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"{'https' if self.https else 'http'}://127.0.0.1:{self.port}"

    def request(self, method, path, *, body=b"", headers=None) -> Response:
        all_headers = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.https:
            all_headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET":
            all_headers.setdefault("Origin", self.origin)
            all_headers.setdefault("Referer", self.origin + path)
        source = (self.source, 0) if self.source else None
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20, source_address=source)
        try:
            conn.request(method, path, body=body, headers=all_headers)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
                self.cookie_attributes[name] = {
                    "secure": "secure" in header.lower(),
                    "httponly": "httponly" in header.lower(),
                }
        return response

    def get(self, path, **headers) -> Response:
        return self.request("GET", path, headers=headers)

    def post_form(self, path, fields: dict, files: dict | None = None) -> Response:
        if files:
            body, content_type = multipart(fields, files)
        else:
            body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        return self.request("POST", path, body=body, headers={"Content-Type": content_type})

    def csrf_token_from(self, path) -> str:
        page = self.get(path)
        assert page.status == 200, (path, page.status, page.text[:500])
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, page.text[:500]
        return match.group(1)
