"""Where the current request came from, so services can record it without taking the request.

The middleware sets it at the start of each request; commands and worker tasks leave it empty,
and their events say so ("from": none).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None
    request_id: str


_current: ContextVar[RequestContext | None] = ContextVar("opennrm_request", default=None)


def set_current(context: RequestContext | None) -> object:
    return _current.set(context)


def reset(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def current() -> RequestContext | None:
    return _current.get()


class RequestContextFilter(logging.Filter):
    """Adds the request id to every log line written while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current.get()
        record.request_id = context.request_id if context else None
        return True
