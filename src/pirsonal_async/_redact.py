"""Keeps secrets out of text: known secret values and values under secret-looking names."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"

# Loggers whose records may carry request URLs; pirsonal_async's own is included as a backstop.
GUARDED_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "pirsonal_async",
)

_URL_PASSWORD = re.compile(r"(//[^/@:\s]*:)[^/@\s]*@")
_SECRET_URL_PARAM = re.compile(r"(?i)([?&;][^=&#\s]*secret[^=&#\s]*=)[^&#\s\"'<>]*")
_SECRET_JSON_KEY = re.compile(r'(?i)("[^"\\]*secret[^"\\]*"\s*:\s*)"(?:[^"\\]|\\.)*"')
_SECRET_REPR_KEY = re.compile(r"(?i)('[^'\\]*secret[^'\\]*'\s*:\s*)'(?:[^'\\]|\\.)*'")

# Text longer than this is cut before redaction when only an excerpt is shown.
_EXCERPT_WINDOW = 10_000


def is_secret_name(name: str) -> bool:
    """Whether a parameter or key name marks a secret (any name containing 'secret')."""
    return "secret" in name.lower()


def _spellings(secret: str) -> set[str]:
    # The forms a value takes in URLs, JSON (either escaping, "/" escaped or not) and reprs.
    json_forms = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    json_forms |= {form.replace("/", "\\/") for form in json_forms}
    url_forms = {quote(secret, safe=""), quote_plus(secret, safe="")}
    return {secret, repr(secret)[1:-1], *url_forms, *json_forms}


class Redactor:
    """Replaces secrets in text with `***`: known values, and values of secret-named keys."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._values: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        fresh = {secret for secret in secrets if secret} - self._secrets
        if not fresh:
            return
        self._secrets |= fresh
        spellings = {form for secret in self._secrets for form in _spellings(secret)}
        # Longest first, so a secret is never half-replaced by a shorter one inside it.
        ordered = sorted(spellings, key=len, reverse=True)
        self._values = re.compile("|".join(re.escape(form) for form in ordered))

    def __call__(self, text: str) -> str:
        if self._values is not None:
            text = self._values.sub(MASK, text)
        text = _URL_PASSWORD.sub(rf"\1{MASK}@", text)
        text = _SECRET_URL_PARAM.sub(rf"\1{MASK}", text)
        text = _SECRET_JSON_KEY.sub(rf'\1"{MASK}"', text)
        return _SECRET_REPR_KEY.sub(rf"\1'{MASK}'", text)

    def data(self, value: Any) -> Any:
        """A copy of a JSON value with secret strings and secret-named keys' values masked."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, dict):
            return {
                key: MASK if isinstance(key, str) and is_secret_name(key) else self.data(item)
                for key, item in value.items()
            }
        return value

    def excerpt(self, body: bytes | str, limit: int = 200) -> str:
        """A short, single-line, redacted view of a body for error messages and logs.

        A JSON body is redacted value by value, whatever escapes its strings use.
        """
        if isinstance(body, bytes):
            body = body[:_EXCERPT_WINDOW].decode("utf-8", "replace")
        text = body[:_EXCERPT_WINDOW]
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            shown = self(text)
        else:
            shown = json.dumps(self.data(value), ensure_ascii=False, separators=(",", ":"))
        flat = " ".join(shown.split())
        return flat if len(flat) <= limit else flat[: limit - 3] + "..."


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


def guard_logs(secrets: Iterable[str]) -> None:
    """Redacts these secrets from every record of the guarded loggers from now on.

    Secrets stay registered for the life of the process: a record logged late (after a
    client closed) must not leak either.
    """
    LOG_FILTER.redactor.add(secrets)
    for name in GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        if LOG_FILTER not in logger.filters:
            logger.addFilter(LOG_FILTER)
