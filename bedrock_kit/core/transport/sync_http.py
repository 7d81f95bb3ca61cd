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
from typing import Any

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
            absolute = session._get_request_target(url, proxy_url) == url
            found = (pool, absolute, proxy_url)
            self._routes[origin] = found
            return found

    def send(
        self,
        method: str,
        origin: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        stream: bool,
    ) -> tuple[int, Any, Any]:
        """Send one request.

        Args:
            method: HTTP method.
            origin: ``scheme://host[:port]`` of the URL.
            target: Path and query.
            headers: Final, signed headers.
            body: Request body.
            stream: Leave the body unread (streaming outputs).

        Returns:
            (status, urllib3 headers, body bytes or the unread urllib3 response).

        Raises:
            botocore.exceptions.HTTPClientError: And its subclasses, as botocore raises them.
        """
        url = origin + target
        proxy_url = None
        try:
            pool, absolute, proxy_url = self._route(origin, url)
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
            )
            if stream and response.status < 300:
                return response.status, response.headers, response
            return response.status, response.headers, b"".join(response.stream()) or b""
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

    def close(self) -> None:
        """Close every pooled connection."""
        self._routes.clear()
        self._session.close()
