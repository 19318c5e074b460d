"""The campaign journal: an SQLite file holding each row's state, so that a key gets at most one
video across retries, crashes, `kill -9` and reruns.

A row moves `pending` -> `creating` -> `created` (with its video ID) -> `done` (rendered) or
`failed`. `creating` is committed BEFORE the create request is sent: a row found in `creating`
later (a crash, or a create whose reply was lost) may or may not have its video, and is
reconciled against the server before anything is sent again. A `failed` row without a video
(the server refused the create) goes back to `pending` on the next run; one with a video (its
render failed) stays failed, since its key already has its video.

WAL mode with `synchronous=NORMAL`: a commit is a write to the WAL file with no fsync, a few
tens of microseconds, so the journal runs on the event loop without stalling it. A committed
transaction survives the process being killed (the data is in the OS's page cache); only an
OS crash or power loss can lose the last commits, which `durable=True` (`synchronous=FULL`, an
fsync per commit) also covers. One run at a time per journal: the file is locked (`flock`)
while open, and the lock goes with the process, however it ends.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from attrs import frozen

from pirsonal_async.errors import PirsonalAsyncError

__all__ = ["Entry", "Journal", "JournalError", "State"]

State = Literal["pending", "creating", "created", "done", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    key TEXT PRIMARY KEY,
    line INTEGER NOT NULL,
    state TEXT NOT NULL,
    video_id TEXT,
    status TEXT,
    links TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS media (path TEXT PRIMARY KEY, media_id TEXT NOT NULL);
"""


class JournalError(PirsonalAsyncError):
    """The journal cannot be used: another run holds it, or it belongs to another template."""


@frozen
class Entry:
    """One row's record in the journal."""

    key: str
    line: int
    state: State
    video_id: str | None
    status: str | None  # the video's status code, once waited for
    links: list[dict[str, Any]] | None
    error: str | None


class Journal:
    """The journal of one campaign (one template); use it with `with`."""

    def __init__(self, path: str | Path, template_id: str, *, durable: bool = False) -> None:
        self.path = Path(path)
        self._lock = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock)
            raise JournalError(f"{self.path} is in use by another campaign run") from None
        self._db = sqlite3.connect(self.path, isolation_level=None)  # explicit transactions
        try:
            owner = self._open(template_id, durable)
        except sqlite3.DatabaseError as error:
            self.close()
            raise JournalError(f"{self.path} is not a campaign journal: {error}") from None
        if owner != template_id:
            self.close()
            raise JournalError(f"{self.path} is the journal of template {owner}, not {template_id}")

    def _open(self, template_id: str, durable: bool) -> str:
        """Sets the journal up (once) and returns the template it belongs to."""
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        with self._transaction():
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(statement)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('template_id', ?)", (template_id,))
        (owner,) = self._db.execute("SELECT value FROM meta WHERE name='template_id'").fetchone()
        return str(owner)

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()
        os.close(self._lock)  # releases the flock

    def _transaction(self) -> sqlite3.Connection:
        # `with connection` commits or rolls back; BEGIN starts the transaction it ends.
        self._db.execute("BEGIN")
        return self._db

    # Rows

    def add(self, rows: Iterable[tuple[str, int]]) -> None:
        """Records `(key, line)` rows not seen before as pending (rows appended since the last
        run); known rows keep their state. Failed rows without a video are pending again."""
        with self._transaction():
            self._db.executemany(
                "INSERT INTO rows (key, line, state) VALUES (?, ?, 'pending') "
                "ON CONFLICT (key) DO UPDATE SET line = excluded.line",
                rows,
            )
            self._db.execute(
                "UPDATE rows SET state = 'pending' WHERE state = 'failed' AND video_id IS NULL"
            )

    def entries(self) -> dict[str, Entry]:
        cursor = self._db.execute(
            "SELECT key, line, state, video_id, status, links, error FROM rows ORDER BY line"
        )
        return {
            key: Entry(key, line, state, video_id, status, links and json.loads(links), error)
            for key, line, state, video_id, status, links, error in cursor
        }

    def creating(self, key: str) -> None:
        """pending -> creating, committed before the create is sent."""
        self._move(key, ("pending",), "creating", error=None)

    def created(self, key: str, video_id: str) -> None:
        """creating -> created: the key has its video."""
        self._move(key, ("creating",), "created", video_id=video_id, error=None)

    def not_created(self, key: str) -> None:
        """creating -> pending: reconciled, no video has the key."""
        self._move(key, ("creating",), "pending", error=None)

    def failed(self, key: str, error: str) -> None:
        """pending or creating -> failed, with no video: refused (by the server, or an upload
        failed); the next run tries again."""
        self._move(key, ("pending", "creating"), "failed", error=error)

    def done(self, key: str, status: str, links: list[dict[str, Any]]) -> None:
        """created -> done: the video is rendered."""
        self._move(key, ("created",), "done", status=status, links=json.dumps(links), error=None)

    def render_failed(self, key: str, status: str, error: str) -> None:
        """created -> failed: the key has its video, but it did not render."""
        self._move(key, ("created",), "failed", status=status, error=error)

    def note(self, key: str, error: str) -> None:
        """Records why a row is not finished yet, keeping its state."""
        with self._transaction():
            self._db.execute("UPDATE rows SET error = ? WHERE key = ?", (error, key))

    def _move(self, key: str, sources: tuple[State, ...], target: State, **values: Any) -> None:
        assignments = "".join(f", {name} = :{name}" for name in values)
        marks = ", ".join(f"'{state}'" for state in sources)
        with self._transaction():
            cursor = self._db.execute(
                f"UPDATE rows SET state = :target{assignments} "
                f"WHERE key = :key AND state IN ({marks})",
                {"key": key, "target": target, **values},
            )
        if cursor.rowcount != 1:
            raise JournalError(f"row {key!r} cannot move to {target}: it is not {sources}")

    # Uploaded files

    def media_id(self, path: str) -> str | None:
        found = self._db.execute("SELECT media_id FROM media WHERE path = ?", (path,)).fetchone()
        return None if found is None else str(found[0])

    def uploaded(self, path: str, media_id: str) -> None:
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO media VALUES (?, ?)", (path, media_id))
