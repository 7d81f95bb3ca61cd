"""What the HTTP stacks below botocore raise while a body or event stream is read.

:func:`bedrock_kit.errors.translate_errors` sorts these into timeouts, broken streams and
broken connections. This module imports nothing from bedrock-kit.
"""

from __future__ import annotations

from functools import cache

__all__ = ["stream_errors", "timed_out_below"]


@cache
def stream_errors() -> tuple[tuple[type[BaseException], ...], ...]:
    """Errors raised below botocore while a body or event stream is being read.

    Three groups: read timeouts (a stalled stream is a timeout like a stalled call), broken
    streams, and broken connections.
    """
    from botocore.eventstream import ParserError
    from botocore.exceptions import ResponseStreamingError
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

    timed_out: list[type[BaseException]] = [ReadTimeoutError, TimeoutError]
    broken: list[type[BaseException]] = [ParserError, ResponseStreamingError, ProtocolError]
    connection: list[type[BaseException]] = [ConnectionError]
    try:  # aiobotocore's transport, only when the async extra is installed
        import aiohttp

        timed_out.append(aiohttp.ServerTimeoutError)
        broken.append(aiohttp.ClientPayloadError)
        connection.append(aiohttp.ClientError)
    except ImportError:
        pass
    return tuple(timed_out), tuple(broken), tuple(connection)


def timed_out_below(exc: BaseException, timeouts: tuple[type[BaseException], ...]) -> bool:
    """Whether ``exc``, or an error it wraps, is one of ``timeouts`` (botocore wraps stream
    read errors: ``ResponseStreamingError(error=ReadTimeoutError)``)."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        if isinstance(current, timeouts):
            return True
        wrapped = (getattr(current, "kwargs", None) or {}).get("error")
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__
        seen += 1
    return False
