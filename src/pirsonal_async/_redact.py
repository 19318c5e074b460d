"""Keeps secrets out of text: known secret values and values under secret-looking names."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"

# Every logger whose records may carry a request URL or a secret. A logger's filter does not
# see the records propagated from its children, so each child logger is listed by name.
GUARDED_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "pirsonal_async",
    "pirsonal_async.sandbox",
    "pirsonal_async.sandbox.render",
    "pirsonal_async.sandbox.rpc_server",
    "pirsonal_async.webhooks",
)

# The one rule for which field, key and parameter names hold secrets (codegen uses it too).
_SECRET_NAME = re.compile("secret|password|token", re.IGNORECASE)
_NAMED = f"(?:{_SECRET_NAME.pattern})"
_URL_PASSWORD = re.compile(r"(//[^/@:\s]*:)[^/@\s]*@")
_SECRET_URL_PARAM = re.compile(rf"(?i)([?&;][^=&#\s]*{_NAMED}[^=&#\s]*=)[^&#\s\"'<>]*")
# A string value cut short by the end of the text (an excerpt's window) is masked too.
_SECRET_JSON_KEY = re.compile(rf'(?i)("[^"\\]*{_NAMED}[^"\\]*"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|\\?\Z)')
_SECRET_REPR_KEY = re.compile(rf"(?i)('[^'\\]*{_NAMED}[^'\\]*'\s*:\s*)'(?:[^'\\]|\\.)*(?:'|\\?\Z)")

# How far past an excerpt's limit a long text is redacted: a secret cut by the window's end
# lies in this tail, which is dropped. Longer than any credential, short enough to bound the
# work on a huge body.
_EXCERPT_SLACK = 10_000
# JSON nested deeper is masked whole. An explicit cut, far below the recursion limit, so every
# Python masks the same values (3.12+ inline comprehensions: fewer frames per level).
_MAX_DEPTH = 100


def is_secret_name(name: str) -> bool:
    """Whether a name marks a secret: it contains "secret", "password" or "token" (any case)."""
    return _SECRET_NAME.search(name) is not None


def _spellings(secret: str) -> set[str]:
    # The forms a value takes in URLs, JSON (either escaping, "/" escaped or not) and reprs.
    json_forms = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    json_forms |= {form.replace("/", "\\/") for form in json_forms}
    url_forms = {quote(secret, safe=""), quote_plus(secret, safe="")}
    return {secret, repr(secret)[1:-1], *url_forms, *json_forms}


class Redactor:
    """Replaces secrets in text with `***`: known values, and values of secret-named keys.

    Known values are counted: each `add` of a value is undone by one `remove` of it. Their
    pattern is compiled on first use after a change, so adding is cheap. Thread-safe, since
    the log filter runs in whatever thread logs.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._counts: Counter[str] = Counter()
        self._values: re.Pattern[str] | None = None
        self._longest = 0
        self._stale = False
        self._lock = threading.Lock()
        self.add(secrets)

    @property
    def secret_count(self) -> int:
        """How many distinct secret values are known."""
        return len(self._counts)

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            for secret in secrets:
                if secret:
                    self._stale |= secret not in self._counts
                    self._counts[secret] += 1

    def remove(self, secrets: Iterable[str]) -> None:
        with self._lock:
            for secret in secrets:
                if self._counts[secret] == 1:
                    del self._counts[secret]
                    self._stale = True
                elif self._counts[secret] > 1:
                    self._counts[secret] -= 1

    def _compiled(self) -> tuple[re.Pattern[str] | None, int]:
        """The pattern of every known spelling, and the length of the longest spelling."""
        with self._lock:
            if self._stale:
                spellings = {form for secret in self._counts for form in _spellings(secret)}
                # Longest first, so a secret is never half-replaced by a shorter one inside it.
                ordered = sorted(spellings, key=len, reverse=True)
                self._values = re.compile("|".join(map(re.escape, ordered))) if ordered else None
                self._longest = len(ordered[0]) if ordered else 0
                self._stale = False
            return self._values, self._longest

    def __call__(self, text: str) -> str:
        values, _ = self._compiled()
        if values is not None:
            text = values.sub(MASK, text)
        text = _URL_PASSWORD.sub(rf"\1{MASK}@", text)
        text = _SECRET_URL_PARAM.sub(rf"\1{MASK}", text)
        text = _SECRET_JSON_KEY.sub(rf'\1"{MASK}"', text)
        return _SECRET_REPR_KEY.sub(rf"\1'{MASK}'", text)

    def data(self, value: Any) -> Any:
        """A copy of a JSON value with secret strings and secret-named keys' values masked.

        A value nested too deeply to copy is masked as a whole.
        """
        try:
            return self._masked(value)
        except RecursionError:
            return MASK

    def _masked(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, str):
            return self(value)
        if isinstance(value, list | dict) and depth == _MAX_DEPTH:
            raise RecursionError(f"nested more than {_MAX_DEPTH} deep")
        if isinstance(value, list):
            return [self._masked(item, depth + 1) for item in value]
        if isinstance(value, dict):
            return {
                key: MASK
                if isinstance(key, str) and is_secret_name(key)
                else self._masked(item, depth + 1)
                for key, item in value.items()
            }
        return value

    def excerpt(self, body: bytes | str, limit: int = 200) -> str:
        """A short, single-line, redacted view of a body for error messages and logs.

        A JSON body is redacted value by value, whatever escapes its strings use. A longer
        text is redacted a window past the limit, and cut only then.
        """
        slack = max(_EXCERPT_SLACK, self._compiled()[1])
        window = limit + slack
        if isinstance(body, bytes):
            # A character takes at most 4 bytes: this decodes past the window if the body does.
            body = body[: 4 * (window + 1)].decode("utf-8", "replace")
        cut = len(body) > window
        # The window's end may split a secret: the split part lies in the dropped tail.
        shown = self(body[:window])[:-slack] if cut else self._json_excerpt(body)
        flat = " ".join(shown.split())
        if len(flat) <= limit and not cut:
            return flat
        return flat[: limit - 3] + "..."

    def _json_excerpt(self, text: str) -> str:
        try:
            value = self._masked(json.loads(text))
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except (ValueError, RecursionError):
            return self(text)


class _SecretLogFilter(logging.Filter):
    """Redacts every record of the guarded loggers, including formatted exceptions."""

    def __init__(self) -> None:
        super().__init__("pirsonal_async.redact")
        self.redactor = Redactor()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redactor(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True


LOG_FILTER = _SecretLogFilter()


def _install_log_filter() -> None:
    for name in GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        if LOG_FILTER not in logger.filters:
            logger.addFilter(LOG_FILTER)


def guard_logs(secrets: Iterable[str]) -> None:
    """Redacts these secret values from the guarded loggers' records until `unguard_logs`.

    Values under secret-named keys and URL parameters are masked without being registered.
    """
    LOG_FILTER.redactor.add(secrets)
    _install_log_filter()  # again, in case logging was reconfigured since


def unguard_logs(secrets: Iterable[str]) -> None:
    """Undoes one `guard_logs` call with the same values."""
    LOG_FILTER.redactor.remove(secrets)


# Installed at import, so the library's records are masked before any client exists.
_install_log_filter()
