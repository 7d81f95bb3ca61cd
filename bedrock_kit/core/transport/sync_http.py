"""The sync I/O loop's HTTP layer: urllib3 pools configured exactly as botocore's.

It sends through the connection manager of a botocore ``URLLib3Session`` (same pools, pool
size, timeouts, TLS context, CA bundle, client certificate, proxies from ``HTTPS_PROXY`` /
``NO_PROXY`` or botocore's ``proxies`` config, proxy TLS settings), but decides once per
endpoint what botocore decides on every request: the proxy, the pool and the request target.
Errors are mapped to the botocore exceptions ``URLLib3Session.send`` raises, so botocore's
retry checkers and :func:`bedrock_kit.errors.translate_errors` see the same types.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore import exceptions as bx
from botocore.httpsession import mask_proxy_url
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout

if TYPE_CHECKING:
    from bedrock_kit.core.transport.deadline import Deadline


class SyncHTTP:
    """Sends requests through a botocore ``URLLib3Session``'s pools.

    Args:
        session: The ``URLLib3Session`` whose configuration to use.
    """

    def __init__(self, session: Any) -> None:
        self._session = session
        self._routes: dict[str, tuple[Any, bool, Any]] = {}
        self._lock = threading.Lock()
        self._no_retry = Retry(False)
        timeout = session._timeout
        self._connect_timeout = _seconds(getattr(timeout, "connect_timeout", timeout))
        self._read_timeout = _seconds(getattr(timeout, "read_timeout", timeout))
        self._local = threading.local()  # the connection of this thread's attempt

    def _route(self, origin: str, url: str) -> tuple[Any, bool, Any]:
        # (pool, absolute-form request target, proxy url) for one scheme://host:port.
        found = self._routes.get(origin)
        if found is not None:
            return found
        with self._lock:
            session = self._session
            proxy_url = session._proxy_config.proxy_url_for(url)
            manager = session._get_connection_manager(url, proxy_url)
            pool = manager.connection_from_url(url)
            session._setup_ssl_cert(pool, url, session._verify)
            self._note_connections(pool)
            absolute = session._get_request_target(url, proxy_url) == url
            found = (pool, absolute, proxy_url)
            self._routes[origin] = found
            return found

    def _note_connections(self, pool: Any) -> None:
        # A deadline's watchdog needs the connection urllib3 picks for an attempt, before
        # the status line arrives (a server may trickle the headers too): the pool tells the
        # attempt of this thread which connection it handed out. Nothing else changes.
        take = pool._get_conn
        local = self._local

        def get_conn(timeout: float | None = None) -> Any:
            connection = take(timeout=timeout)
            slot = getattr(local, "slot", None)
            if slot is not None:
                slot.append(connection)
            return connection

        pool._get_conn = get_conn

    def send(
        self,
        method: str,
        origin: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        stream: bool,
        deadline: Deadline | None = None,
    ) -> tuple[int, Any, Any]:
        """Send one request.

        Args:
            method: HTTP method.
            origin: ``scheme://host[:port]`` of the URL.
            target: Path and query.
            headers: Final, signed headers.
            body: Request body.
            stream: Leave the body unread (streaming outputs).
            deadline: Bound the attempt: connect and read timeouts capped by the time
                left, the socket shut down at the deadline (a streamed body stays watched
                until the deadline closes).

        Returns:
            (status, urllib3 headers, body bytes or the unread urllib3 response).

        Raises:
            botocore.exceptions.HTTPClientError: And its subclasses, as botocore raises them.
        """
        url = origin + target
        proxy_url = None
        attempt = None
        try:
            pool, absolute, proxy_url = self._route(origin, url)
            extra: dict[str, Any] = {}
            if deadline is not None:
                attempt, extra["timeout"] = self._attempt(deadline)
            try:
                response = pool.urlopen(
                    method=method,
                    url=url if absolute else target,
                    body=body,
                    headers=headers,
                    retries=self._no_retry,
                    assert_same_host=False,
                    preload_content=False,
                    decode_content=False,
                    chunked=False,
                    enforce_content_length=False,
                    **extra,
                )
            finally:
                self._local.slot = None
            if attempt is not None:
                attempt.response = response  # its socket while the response holds it
            if stream and response.status < 300:
                return response.status, response.headers, response
            data = b"".join(response.stream()) or b""
            if attempt is not None and deadline is not None:
                attempt.stand_down()
                deadline.check()  # a body cut at the deadline may look complete
            return response.status, response.headers, data
        except SSLError as exc:
            raise bx.SSLError(endpoint_url=url, error=exc) from exc
        except (NewConnectionError, socket.gaierror) as exc:
            raise bx.EndpointConnectionError(endpoint_url=url, error=exc) from exc
        except ProxyError as exc:
            masked = mask_proxy_url(proxy_url or "")
            raise bx.ProxyConnectionError(proxy_url=masked, error=exc) from exc
        except ConnectTimeoutError as exc:
            raise bx.ConnectTimeoutError(endpoint_url=url, error=exc) from exc
        except ReadTimeoutError as exc:
            raise bx.ReadTimeoutError(endpoint_url=url, error=exc) from exc
        except ProtocolError as exc:
            raise bx.ConnectionClosedError(error=exc, request=None, endpoint_url=url) from exc
        except Exception as exc:
            raise bx.HTTPClientError(error=exc) from exc

    def _attempt(self, deadline: Deadline) -> tuple[_Attempt, Timeout]:
        attempt = _Attempt()
        self._local.slot = attempt.connections
        attempt.watch = deadline.watch(attempt.socket)
        timeout = Timeout(
            connect=deadline.bounded(self._connect_timeout),
            read=deadline.bounded(self._read_timeout),
        )
        return attempt, timeout

    def close(self) -> None:
        """Close every pooled connection."""
        self._routes.clear()
        self._session.close()


class _Attempt:
    """One attempt under a deadline: its connection, then its response, and their watch."""

    def __init__(self) -> None:
        self.connections: list[Any] = []
        self.response: Any = None
        self.watch: Any = None

    def socket(self) -> Any:
        # Once the response is back in the pool (its body read), the connection may serve
        # another call: the response no longer holds it, and nothing is shut down.
        if self.response is not None:
            connection = self.response.connection
        else:
            connection = self.connections[-1] if self.connections else None
        return getattr(connection, "sock", None)

    def stand_down(self) -> None:
        self.watch.stand_down()


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
