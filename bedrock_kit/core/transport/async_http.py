"""The async I/O loop's HTTP layer: one aiohttp session per proxy, configured as botocore's.

The settings are read from the botocore ``URLLib3Session`` the sync path uses (CA bundle or
``verify``, client certificate, proxies and proxy TLS settings, connect and read timeouts,
pool size), so both paths reach the endpoint the same way. The aiohttp options follow
aiobotocore's (no automatic Content-Type, no decompression, ``Accept-Encoding: identity``),
and errors are mapped to the botocore exceptions aiobotocore raises.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Mapping
from typing import Any

import aiohttp
from botocore import exceptions as bx
from botocore.httpsession import mask_proxy_url
from yarl import URL

from bedrock_kit.core.transport.single_flight import SingleFlight

_KEEPALIVE_TIMEOUT = 12  # seconds, aiobotocore's default


class AsyncHTTP:
    """Sends requests with aiohttp: one session per event loop (and proxy), built lazily.

    Args:
        session: The botocore ``URLLib3Session`` whose settings to use.
    """

    def __init__(self, session: Any) -> None:
        self._verify = session._verify
        self._proxy_config = session._proxy_config
        self._cert = (session._cert_file, session._key_file)
        self._limit = session._max_pool_connections
        timeout = session._timeout
        connect = getattr(timeout, "connect_timeout", timeout)
        read = getattr(timeout, "read_timeout", timeout)
        self._timeout = aiohttp.ClientTimeout(sock_connect=connect, sock_read=read)
        self._context: ssl.SSLContext | None = None
        # One aiohttp session per event loop and proxy: a client injected once keeps
        # working when it is used from several loops (asyncio.run per call, notebooks).
        self._sessions: dict[tuple[int, str | None], aiohttp.ClientSession] = {}
        self._loops: dict[int, asyncio.AbstractEventLoop] = {}
        self._routes: dict[str, tuple[str | None, dict[str, str]]] = {}
        self._lock = threading.Lock()
        self._building = SingleFlight()  # the TLS context
        self._context_lock = threading.Lock()

    def _route(self, origin: str, url: str) -> tuple[str | None, dict[str, str]]:
        found = self._routes.get(origin)
        if found is None:
            proxy_url = self._proxy_config.proxy_url_for(url)
            headers = self._proxy_config.proxy_headers_for(url) if proxy_url else {}
            found = (proxy_url, headers)
            self._routes[origin] = found
        return found

    async def _session(self, proxy_url: str | None) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        key = (id(loop), proxy_url)
        session = self._sessions.get(key)
        if session is not None and self._loops.get(id(loop)) is loop:
            return session
        if self._context is None and (self._verify or self._cert[0] or proxy_url):
            await self._build_context()
        with self._lock:
            self._forget_closed_loops()
            session = self._sessions.get(key)
            if session is None or self._loops.get(id(loop)) is not loop:
                connector = aiohttp.TCPConnector(
                    limit=self._limit,
                    ssl=self._context or self._ssl_context(),
                    keepalive_timeout=_KEEPALIVE_TIMEOUT,
                )
                session = aiohttp.ClientSession(
                    connector=connector,
                    timeout=self._timeout,
                    skip_auto_headers={"CONTENT-TYPE"},
                    auto_decompress=False,
                )
                self._sessions[key] = session
                self._loops[id(loop)] = loop
        return session

    def _forget_closed_loops(self) -> None:
        for loop_id, loop in list(self._loops.items()):
            if loop.is_closed():
                del self._loops[loop_id]
                for key in [k for k in self._sessions if k[0] == loop_id]:
                    del self._sessions[key]  # its loop closed its sockets

    async def _build_context(self) -> None:
        """Build the TLS context off the event loop, once for every caller.

        Loading the CA bundle takes tens of milliseconds. The calls that start together on a
        fresh client (a service's first burst) wait for one build: each building its own
        queued them on the default executor, and 256 of them took 18 s instead of 0.1 s.
        """
        await self._building.run("tls", lambda: asyncio.to_thread(self._context_once))

    def _context_once(self) -> None:
        with self._context_lock:
            if self._context is None:
                self._context = self._ssl_context()

    def _ssl_context(self) -> ssl.SSLContext:
        from botocore.httpsession import create_urllib3_context, get_cert_path

        context: ssl.SSLContext = create_urllib3_context()
        if self._verify:
            context.check_hostname = True
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(get_cert_path(self._verify))
        else:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self._cert[0]:
            context.load_cert_chain(self._cert[0], self._cert[1])
        return context

    async def send(
        self,
        method: str,
        origin: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        stream: bool,
    ) -> tuple[int, Any, Any]:
        """Send one request; see :meth:`SyncHTTP.send`.

        Returns:
            (status, aiohttp headers, body bytes or the unread aiohttp response).
        """
        url = origin + target
        proxy_url: str | None = None
        try:
            proxy_url, proxy_headers = self._route(origin, url)
            session = await self._session(proxy_url)
            all_headers = dict(headers)
            all_headers["Accept-Encoding"] = "identity"
            response = await session.request(
                method,
                URL(url, encoded=True),
                headers=all_headers,
                data=body,
                proxy=proxy_url,
                proxy_headers=proxy_headers or None,
            )
            if stream and response.status < 300:
                return response.status, response.headers, response
            return response.status, response.headers, await response.read()
        except aiohttp.ClientSSLError as exc:
            raise bx.SSLError(endpoint_url=url, error=exc) from exc
        except (aiohttp.ClientProxyConnectionError, aiohttp.ClientHttpProxyError) as exc:
            masked = mask_proxy_url(proxy_url or "")
            raise bx.ProxyConnectionError(proxy_url=masked, error=exc) from exc
        except (
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientPayloadError,
            aiohttp.http_exceptions.BadStatusLine,
        ) as exc:
            raise bx.ConnectionClosedError(error=exc, request=None, endpoint_url=url) from exc
        except aiohttp.ServerTimeoutError as exc:
            if str(exc).lower().startswith("connect"):
                raise bx.ConnectTimeoutError(endpoint_url=url, error=exc) from exc
            raise bx.ReadTimeoutError(endpoint_url=url, error=exc) from exc
        except (
            aiohttp.ClientConnectorError,
            aiohttp.ClientConnectionError,
            socket.gaierror,
        ) as exc:
            raise bx.EndpointConnectionError(endpoint_url=url, error=exc) from exc
        except asyncio.TimeoutError as exc:
            raise bx.ReadTimeoutError(endpoint_url=url, error=exc) from exc
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise bx.HTTPClientError(error=exc) from exc

    async def close(self) -> None:
        """Close the running loop's sessions (and their pooled connections)."""
        loop_id = id(asyncio.get_running_loop())
        with self._lock:
            keys = [k for k in self._sessions if k[0] == loop_id]
            sessions = [self._sessions.pop(k) for k in keys]
            self._loops.pop(loop_id, None)
        for session in sessions:
            await session.close()
