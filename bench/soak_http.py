"""A small asyncio HTTP/1.1 client for the soak's virtual users: one keep-alive connection per
user, cookies, the CSRF token, never a redirect followed. Standard library only (the venv has
neither httpx nor aiohttp, and the soak adds no dependency); it speaks just what nginx answers:
Content-Length, chunked bodies (the CSV export streams), or a body up to the connection's end.
"""

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from core.testing import multipart

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class TransportError(Exception):
    """No answer: the connection failed, closed early, or the request timed out."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Session:
    """One browser (or API script): its connection to the proxy, its cookies and token."""

    port: int
    host: str = "127.0.0.1"
    timeout: float = 60.0
    cookies: dict[str, str] = field(default_factory=dict)
    token: str = ""
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None

    @property
    def origin(self) -> str:
        return f"https://{self.host}:{self.port}"

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):  # a connection already gone is closed
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        api: bool = False,
    ) -> Response:
        """One request; a transport failure closes the connection and raises TransportError
        (a stale keep-alive connection is retried once on a fresh one, for GETs only)."""
        for attempt in (1, 2):
            fresh = self._writer is None
            try:
                return await asyncio.wait_for(
                    self._send(method, path, body, headers or {}, api), self.timeout
                )
            except (OSError, asyncio.IncompleteReadError, EOFError, ValueError) as error:
                await self.close()
                if fresh or attempt == 2 or method != "GET":
                    raise TransportError(f"{type(error).__name__}: {error}") from None
            except TimeoutError:
                await self.close()
                raise TransportError("timeout") from None
        raise AssertionError("unreachable")

    async def _send(self, method, path, body, extra, api) -> Response:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        headers = {
            "Host": f"{self.host}:{self.port}",
            # We play the TLS terminator in front of nginx (PROXY_TRUSTED_FRONT=127.0.0.0/8),
            # as deploy/tests/test_stack.py does: production's HTTPS settings stay on.
            "X-Forwarded-Proto": "https",
            "Content-Length": str(len(body)),
            "User-Agent": "mini-crm-soak",
        }
        if api and self.token:
            headers["Authorization"] = f"Token {self.token}"
        elif self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method not in ("GET", "HEAD"):
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
            if "csrftoken" in self.cookies and not (api and self.token):
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
        headers.update(extra)
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        self._writer.write(head.encode("latin-1") + b"\r\n" + body)
        await self._writer.drain()
        response = await read_response(self._reader, method)
        for header in response.cookies:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.header("connection").lower() == "close":
            await self.close()
        return response

    async def get(self, path: str, *, api: bool = False) -> Response:
        return await self.request("GET", path, api=api)

    async def post_form(self, path: str, fields: dict, files: dict | None = None) -> Response:
        if files:
            body, content_type = multipart(fields, files)
        else:
            body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        return await self.request("POST", path, body=body, headers={"Content-Type": content_type})

    async def send_json(self, method: str, path: str, payload: bytes) -> Response:
        return await self.request(
            method, path, body=payload, headers={"Content-Type": "application/json"}, api=True
        )


async def read_response(reader: asyncio.StreamReader, method: str = "GET") -> Response:
    status_line = await reader.readuntil(b"\r\n")
    parts = status_line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"not an HTTP status line: {status_line[:80]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    cookies: list[str] = []
    while True:
        line = (await reader.readuntil(b"\r\n")).decode("latin-1").rstrip("\r\n")
        if not line:
            break
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "set-cookie":
            cookies.append(value)
        headers[name] = value
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        body = b""
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        body = await reader.read()
        headers["connection"] = "close"
    return Response(status, headers, cookies, body)


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    return match.group(1) if match else ""


def now() -> float:
    """Wall-clock seconds: the soak's requests, windows and sockets share one clock."""
    return time.time()
