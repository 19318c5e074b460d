"""Keeps secrets out of text: known secret values and values under secret-looking names."""

from __future__ import annotations

import functools
import html.entities
import json
import logging
import re
import threading
import weakref
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

MASK = "***"

# Every logger that a request of the library may pass through, whatever the engine. A logger's
# filter does not see the records propagated from its children, so each child is listed by
# name (and any other child of these roots is found when a client is made).
GUARDED_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "hpack",
    "hpack.hpack",
    "hpack.table",
    "aiohttp",
    "aiohttp.access",
    "aiohttp.client",
    "aiohttp.internal",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.websocket",
    "pirsonal_async",
    "pirsonal_async.sandbox",
    "pirsonal_async.sandbox.render",
    "pirsonal_async.sandbox.rpc_server",
    "pirsonal_async.webhooks",
)
_GUARDED_ROOTS = frozenset(name for name in GUARDED_LOGGERS if "." not in name)

# The one rule for which field, key and parameter names hold secrets (codegen uses it too).
_SECRET_NAME = re.compile("secret|password|token", re.IGNORECASE)
_NAMED = f"(?:{_SECRET_NAME.pattern})"
_URL_PASSWORD = re.compile(r"(//[^/@:\s]*:)[^/@\s]*@")
_SECRET_URL_PARAM = re.compile(rf"(?i)([?&;][^=&#\s]*{_NAMED}[^=&#\s]*=)[^&#\s\"'<>]*")
# A string value cut short by the end of the text (an excerpt's window) is masked too.
_SECRET_JSON_KEY = re.compile(rf'(?i)("[^"\\]*{_NAMED}[^"\\]*"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|\\?\Z)')
_SECRET_REPR_KEY = re.compile(rf"(?i)('[^'\\]*{_NAMED}[^'\\]*'\s*:\s*)'(?:[^'\\]|\\.)*(?:'|\\?\Z)")

# A known value shorter than this is masked only where it stands alone, not inside a word:
# masking every "s" of a text would garble it and give the value away. (Values under secret
# names, as in URLs and JSON, are masked by name whatever their length.)
_SHORT_SECRET = 8

# How far past an excerpt's limit a long text is redacted: a secret cut by the window's end
# lies in this tail, which is dropped. Longer than any credential, short enough to bound the
# work on a huge body.
_EXCERPT_SLACK = 10_000
# JSON nested deeper is masked whole. An explicit cut, far below the recursion limit, so every
# Python masks the same values (3.12+ inline comprehensions: fewer frames per level).
_MAX_DEPTH = 100
# The most characters one character of a secret takes in any spelling `_char_pattern` knows.
_LONGEST_CHAR_SPELLING = 40

# The escapes JSON and Python reprs write for these characters (`\n`, `\"`...).
_SHORT_ESCAPES = {
    '"': '"',
    "'": "'",
    "\\": "\\",
    "/": "/",
    "\b": "b",
    "\f": "f",
    "\n": "n",
    "\r": "r",
    "\t": "t",
}
# A backslash escape, escaped again up to twice (a JSON text quoted in a repr, and so on).
_BACKSLASHES = r"\\{1,4}"
# A percent-encoding, encoded again up to three times (`%2F`, `%252F`...).
_PERCENT = "%(?:25){0,3}"


def is_secret_name(name: str) -> bool:
    """Whether a name marks a secret: it contains "secret", "password" or "token" (any case)."""
    return _SECRET_NAME.search(name) is not None


def _hex(number: int, digits: int = 1) -> str:
    """The number in hexadecimal digits of either case (a class is quicker to compile than a
    case-insensitive group, and patterns are compiled per secret)."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{number:0{digits}x}")


def _either(forms: list[str]) -> str:
    return forms[0] if len(forms) == 1 else f"(?:{'|'.join(forms)})"


@functools.cache
def _html_names() -> dict[str, list[str]]:
    """The HTML character reference names of each character (`amp;`, `AMP`...), escaped."""
    names: dict[str, list[str]] = {}
    for name, text in html.entities.html5.items():
        names.setdefault(text, []).append(re.escape(name))
    return names


@functools.lru_cache(maxsize=4096)
def _char_pattern(char: str) -> str:
    """Every spelling one character of a secret takes in a message: as is; percent-encoded in
    any case, once or again, a space also as `+`; a JSON or Python escape, also of the UTF-8
    bytes (a bytes repr) and escaped again; an HTML character reference."""
    code = ord(char)
    utf8 = char.encode("utf-8", "surrogatepass")
    forms = [re.escape(char), "".join(_PERCENT + _hex(byte, 2) for byte in utf8)]
    if char == " ":
        forms += [r"\+", _PERCENT + "2[bB]"]
    escapes = []
    if code > 0xFFFF:
        high, low = divmod(code - 0x10000, 0x400)
        escapes += [f"u{_hex(0xD800 + high, 4)}{_BACKSLASHES}u{_hex(0xDC00 + low, 4)}"]
        escapes += [f"U{_hex(code, 8)}"]
    else:
        escapes += [f"u{_hex(code, 4)}"]
    if code < 0x100:
        escapes += [f"x{_hex(code, 2)}"]
    if code >= 0x80:
        escapes += [_BACKSLASHES.join(f"x{_hex(byte, 2)}" for byte in utf8)]
    if char in _SHORT_ESCAPES:
        escapes += [re.escape(_SHORT_ESCAPES[char])]
    references = [
        f"#0{{0,4}}{code};?",
        f"#[xX]0{{0,4}}{_hex(code)};?",
        *_html_names().get(char, []),
    ]
    forms += [_BACKSLASHES + _either(escapes), "&" + _either(references)]
    return _either(forms)


def _value_pattern(secret: str) -> re.Pattern[str]:
    """Every spelling of a secret, mixed character by character as decoders accept them."""
    spelled = "".join(map(_char_pattern, secret))
    if len(secret) < _SHORT_SECRET:
        spelled = rf"(?<!\w){spelled}(?!\w)"
    return re.compile(spelled)


class Redactor:
    """Replaces secrets in text with `***`: known values, and values of secret-named keys.

    A known value is masked in every spelling it takes in a message (see `_char_pattern`).
    Known values are counted: each `add` of a value is undone by one `remove` of it. A value's
    pattern is compiled on first use, so adding is cheap. Thread-safe, since the log filter
    runs in whatever thread logs.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._counts: Counter[str] = Counter()
        # Removals wait here for the next use: `remove` may run in a garbage collector's
        # finalizer, which can interrupt this very object while its lock is held.
        self._removed: deque[list[str]] = deque()
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._ordered: list[re.Pattern[str]] = []
        self._stale = False
        # Reentrant: a record logged from a finalizer may be redacted while the lock is held.
        self._lock = threading.RLock()
        self.add(secrets)

    @property
    def secret_count(self) -> int:
        """How many distinct secret values are known."""
        with self._lock:
            return len(self._known())

    @property
    def secrets(self) -> tuple[str, ...]:
        """The known secret values."""
        with self._lock:
            return tuple(self._known())

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            known = self._known()
            for secret in secrets:
                if secret:
                    self._stale |= secret not in known
                    known[secret] += 1

    def remove(self, secrets: Iterable[str]) -> None:
        """Undoes one `add` of each value; never waits, so it is safe in a finalizer."""
        self._removed.append(list(secrets))

    def _known(self) -> Counter[str]:
        """The count of each known value, once queued removals are applied (lock held)."""
        while self._removed:
            for secret in self._removed.popleft():
                if self._counts[secret] == 1:
                    del self._counts[secret]
                    self._stale = True
                elif self._counts[secret] > 1:
                    self._counts[secret] -= 1
        return self._counts

    def _values(self) -> list[re.Pattern[str]]:
        """The pattern of each known value, longest value first, so that a secret is never
        half-replaced by a shorter one inside it."""
        with self._lock:
            known = list(self._known())
            if self._stale:
                self._patterns = {
                    secret: self._patterns.get(secret) or _value_pattern(secret) for secret in known
                }
                by_length = sorted(known, key=len, reverse=True)
                self._ordered = [self._patterns[secret] for secret in by_length]
                self._stale = False
            return self._ordered

    def __call__(self, text: str) -> str:
        for value in self._values():
            text = value.sub(MASK, text)
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
        longest = max(map(len, self.secrets), default=0)
        slack = max(_EXCERPT_SLACK, _LONGEST_CHAR_SPELLING * longest)
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
    existing = list(logging.root.manager.loggerDict)
    children = [name for name in existing if name.partition(".")[0] in _GUARDED_ROOTS]
    for name in {*GUARDED_LOGGERS, *children}:
        logger = logging.getLogger(name)
        if LOG_FILTER not in logger.filters:
            logger.addFilter(LOG_FILTER)


def guard_logs(owner: object, secrets: Iterable[str]) -> Callable[[], object]:
    """Masks these secret values in the guarded loggers' records while `owner` needs it.

    Until the returned function is called (later calls do nothing) or `owner` is garbage
    collected, whichever comes first: so the registry holds only the values of live owners.
    Values under secret-named keys and URL parameters are masked without being registered.
    """
    values = [secret for secret in secrets if secret]
    LOG_FILTER.redactor.add(values)
    _install_log_filter()  # again, in case logging was reconfigured since
    # The finalizer may run at any allocation, even inside a contextvars or a lock operation,
    # so it runs no Python code of ours: it only queues the removal (what `remove` does).
    return weakref.finalize(owner, LOG_FILTER.redactor._removed.append, values)


# Installed at import, so the library's records are masked before any client exists.
_install_log_filter()
