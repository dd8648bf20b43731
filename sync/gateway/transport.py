"""The SDK's REST layer, answered over one shared ``httpx.Client``.

``hubspot-api-client`` 12 builds, for every API it exposes, a generated ``ApiClient`` whose
``rest_client`` (a urllib3 ``RESTClientObject``) sends the request. ``SdkTransport.api_factory``
is passed to ``hubspot.Client.create(api_factory=...)``: it configures each generated client the
way the SDK's default factory does, then swaps its ``rest_client`` for ``HttpxRestClient``, so
every API (objects, search, batch, properties, associations v4, owners) goes through the same
``httpx.Client`` and the same ``RateLimiter``. Tests hand that client an ``httpx.MockTransport``.

``HttpxRestClient.request`` has the signature and behaviour of the SDK's
``RESTClientObject.request``: same URL and query encoding (``urlencode``, repeated keys), JSON
bodies, ``_request_timeout`` as a number or a (connect, read) pair, a response exposing
``status``, ``reason``, ``data`` (bytes), ``getheaders()`` and ``getheader()``, and the SDK
package's own ``ApiException`` subclasses for non-2xx answers. Transport failures (timeouts,
refused or dropped connections) propagate as ``httpx.TransportError``, as urllib3's do there.
"""

from __future__ import annotations

import functools
import importlib
import io
import re
from importlib import metadata
from types import ModuleType
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import orjson

from sync.gateway.pacing import RateLimiter

__all__ = ["HttpxRestClient", "HttpxRestResponse", "SdkTransport", "is_search"]

_SEARCH_PATH = re.compile(r"/search/?$")


def is_search(method: str, url: str) -> bool:
    """True for CRM search calls, which have their own per-second budget."""
    return method.upper() == "POST" and bool(_SEARCH_PATH.search(urlsplit(url).path))


class HttpxRestResponse(io.IOBase):
    """What the SDK's ``RESTResponse`` exposes, over an ``httpx.Response`` (already read)."""

    def __init__(self, response: httpx.Response) -> None:
        self.httpx_response = response
        self.status: int = response.status_code
        self.reason: str = response.reason_phrase
        # The SDK decodes ``data`` to ``str`` in place after a 2xx, so it is not read-only.
        self.data: bytes | str = response.content

    def getheaders(self) -> httpx.Headers:
        """The response headers (case-insensitive mapping)."""
        return self.httpx_response.headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        """One response header, or ``default``."""
        value: str | None = self.httpx_response.headers.get(name, default)
        return value


def _timeout(request_timeout: Any) -> httpx.Timeout | None:
    if isinstance(request_timeout, int | float) and request_timeout:
        return httpx.Timeout(float(request_timeout))
    if isinstance(request_timeout, tuple) and len(request_timeout) == 2:
        connect, read = request_timeout
        return httpx.Timeout(read, connect=connect)
    return None


class HttpxRestClient:
    """Drop-in for one SDK package's ``rest.RESTClientObject``, sending through httpx."""

    def __init__(
        self, http: httpx.Client, exceptions: ModuleType, limiter: RateLimiter | None = None
    ) -> None:
        self._http = http
        self._exc = exceptions
        self._limiter = limiter

    def request(
        self,
        method: str,
        url: str,
        query_params: Any = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        post_params: Any = None,
        _preload_content: bool = True,
        _request_timeout: Any = None,
    ) -> HttpxRestResponse:
        """Send one request; return the response or raise the package's ``ApiException``.

        The response is always fully read (``_preload_content`` is accepted for signature
        compatibility; ``data`` is bytes either way).
        """
        method = method.upper()
        if post_params and body:
            raise self._exc.ApiValueError("body cannot be used with post_params")
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
        if query_params:
            url += "?" + urlencode(query_params)
        content = self._content(method, headers, body, post_params)
        timeout = _timeout(_request_timeout)
        response = self._send(method, url, headers, content, timeout)
        return self._check(HttpxRestResponse(response))

    def _content(
        self, method: str, headers: dict[str, str], body: Any, post_params: Any
    ) -> bytes | None:
        if method in ("GET", "HEAD"):
            return None
        content_type = headers["Content-Type"]
        if re.search("json", content_type, re.IGNORECASE):
            return None if body is None else orjson.dumps(body)
        if content_type == "application/x-www-form-urlencoded":
            return urlencode(post_params or []).encode()
        if isinstance(body, str | bytes):
            return body.encode() if isinstance(body, str) else body
        raise self._exc.ApiException(
            status=0,
            reason="Cannot prepare a request message for provided arguments. "
            "Please check that your arguments match declared content type.",
        )

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        timeout: httpx.Timeout | None,
    ) -> httpx.Response:
        slot = self._limiter.acquire(search=is_search(method, url)) if self._limiter else None
        response: httpx.Response | None = None
        try:
            kwargs: dict[str, Any] = {"headers": headers, "content": content}
            if timeout is not None:
                kwargs["timeout"] = timeout
            response = self._http.request(method, url, **kwargs)
            return response
        finally:
            if self._limiter is not None and slot is not None:
                self._limiter.release(slot, response.headers if response is not None else None)

    def _check(self, response: HttpxRestResponse) -> HttpxRestResponse:
        status = response.status
        if 200 <= status <= 299:
            return response
        exc = self._exc
        if status == 401:
            raise exc.UnauthorizedException(http_resp=response)
        if status == 403:
            raise exc.ForbiddenException(http_resp=response)
        if status == 404:
            raise exc.NotFoundException(http_resp=response)
        if 500 <= status <= 599:
            raise exc.ServiceException(http_resp=response)
        raise exc.ApiException(http_resp=response)

    # The generated ApiClient calls these verb methods, not ``request`` directly.
    def GET(self, url: str, **kw: Any) -> HttpxRestResponse:  # the SDK's names
        return self.request("GET", url, **kw)

    def HEAD(self, url: str, **kw: Any) -> HttpxRestResponse:
        return self.request("HEAD", url, **kw)

    def OPTIONS(self, url: str, **kw: Any) -> HttpxRestResponse:
        return self.request("OPTIONS", url, **kw)

    def DELETE(self, url: str, **kw: Any) -> HttpxRestResponse:
        return self.request("DELETE", url, **kw)

    def POST(self, url: str, **kw: Any) -> HttpxRestResponse:
        return self.request("POST", url, **kw)

    def PUT(self, url: str, **kw: Any) -> HttpxRestResponse:
        return self.request("PUT", url, **kw)

    def PATCH(self, url: str, **kw: Any) -> HttpxRestResponse:
        return self.request("PATCH", url, **kw)


class SdkTransport:
    """Builds SDK API objects whose REST layer is ``HttpxRestClient`` over one ``httpx.Client``.

    Pass ``api_factory`` to ``hubspot.Client.create``. Like the SDK's default factory, every
    non-None ``Client.create`` keyword becomes a ``Configuration`` attribute (``access_token``,
    ``host``, ...), and the User-Agent names the SDK version.
    """

    def __init__(self, http: httpx.Client, limiter: RateLimiter | None = None) -> None:
        self.http = http
        self.limiter = limiter

    def api_factory(self, package: ModuleType, api_name: str, config: dict[str, Any]) -> Any:
        configuration = package.Configuration()
        for key, value in config.items():
            if key == "api_key":
                configuration.api_key["developer_hapikey"] = value
            elif key != "retry":  # retries are ours (sync.gateway.retry), not urllib3's
                setattr(configuration, key, value)
        api_client = package.ApiClient(configuration=configuration)
        exceptions = importlib.import_module(package.__name__ + ".exceptions")
        api_client.rest_client = HttpxRestClient(self.http, exceptions, self.limiter)
        api_client.user_agent = "hubspot-api-client-python; " + _sdk_version()
        return getattr(package, api_name)(api_client=api_client)


@functools.cache  # reading package metadata costs ~3 ms; a gateway per portal asks 8 times
def _sdk_version() -> str:
    try:
        return metadata.version("hubspot-api-client")
    except metadata.PackageNotFoundError:  # pragma: no cover - installed with the project
        return "unknown"
