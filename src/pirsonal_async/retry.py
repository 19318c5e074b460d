"""When a failed call is retried and after how long: a policy value and one pure decision."""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeAlias

from attrs import Attribute, field, frozen

# Statuses after which a read-only call is retried: rate limited or a gateway/overload failure.
RETRIED_STATUSES = frozenset({429, 502, 503, 504})


class Failure(enum.Enum):
    """What went wrong with an attempt, as far as retrying is concerned."""

    NOT_SENT = "not sent"
    """The connection failed before the request was sent: always safe to retry."""
    TIMEOUT = "timeout"
    """The request may have been sent, and no reply came in time."""
    CONNECTION_LOST = "connection lost"
    """The connection broke after the request may have been sent."""


@frozen
class HttpStatus:
    """The server answered with a non-200 status; `retry_after` is in seconds, if given."""

    status: int
    retry_after: float | None = None


Outcome: TypeAlias = Failure | HttpStatus


def _non_negative(_: object, attribute: Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


def _at_least_one(_: object, attribute: Attribute[Any], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be >= 1, got {value}")


def _fraction(_: object, attribute: Attribute[Any], value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value}")


def _patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    return tuple(patterns)


@frozen
class RetryPolicy:
    """How many attempts, how long between them, and which methods are safe to repeat.

    A call that never reached the server is always retried. Methods matching `read_only`
    (fnmatch patterns on the function name, the part after the last dot, or on the whole
    method when it has no dot) are also retried on timeouts, lost connections and the
    statuses 429, 502, 503 and 504. Anything else that may have reached the server is never
    sent twice. The delay doubles from `base_delay` up to `max_delay`, minus a random share of
    up to `jitter` of it; a Retry-After is honoured as sent, and one longer than
    `max_retry_after` is not waited for (the call fails with it instead).
    """

    max_attempts: int = field(default=3, validator=_at_least_one)
    base_delay: float = field(default=0.5, validator=_non_negative)
    max_delay: float = field(default=8.0, validator=_non_negative)
    jitter: float = field(default=0.5, validator=_fraction)
    max_retry_after: float = field(default=30.0, validator=_non_negative)
    read_only: tuple[str, ...] = field(
        default=("*_List", "*_Get*", "barrister-idl"), converter=_patterns
    )

    def is_read_only(self, method: str) -> bool:
        name = method.rpartition(".")[2]  # the function: an interface name may hold dots
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.read_only)

    def delay(
        self, methods: str | Sequence[str], attempt: int, outcome: Outcome, rand: float
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up.

        `methods` is the method called, or every method of a batch (read-only only if all
        are); `attempt` is the number of the attempt that just failed, from 1; `rand` is a
        random number in [0, 1) used for the jitter.
        """
        if attempt >= self.max_attempts:
            return None
        if outcome is not Failure.NOT_SENT:
            names = (methods,) if isinstance(methods, str) else methods
            if not all(self.is_read_only(name) for name in names):
                return None
            if isinstance(outcome, HttpStatus):
                if outcome.status not in RETRIED_STATUSES:
                    return None
                if outcome.retry_after is not None:
                    if outcome.retry_after > self.max_retry_after:
                        return None
                    return outcome.retry_after
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return backoff * (1 - self.jitter * rand)


NO_RETRY = RetryPolicy(max_attempts=1)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from `now` given by a Retry-After header (delta-seconds or an HTTP date).

    None when the header is missing or unusable; a date in the past gives 0.
    """
    if value is None:
        return None
    text = value.strip()
    # RFC 9110 delay-seconds are ASCII digits; str.isdigit also takes "²" and "①".
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())
