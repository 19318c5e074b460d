"""The campaign journal: state transitions, reruns, the one-run lock, durability settings."""

from __future__ import annotations

import fcntl
import sqlite3
from pathlib import Path

import pytest

from pirsonal_async.campaign import Journal, JournalError


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "campaign.db"


def states(journal: Journal) -> dict[str, str]:
    return {key: entry.state for key, entry in journal.entries().items()}


def test_a_row_moves_pending_creating_created_done(path: Path) -> None:
    with Journal(path, "t1") as journal:
        journal.add([("a", 2)])
        journal.creating("a")
        journal.note("a", "outcome unknown: reply lost")
        journal.created("a", "v1")
        assert journal.entries()["a"].error is None
        journal.done("a", "done", [{"id": "f", "profile": "p", "url": "u"}])
        entry = journal.entries()["a"]
    assert (entry.state, entry.video_id, entry.status, entry.links) == (
        "done",
        "v1",
        "done",
        [{"id": "f", "profile": "p", "url": "u"}],
    )


def test_creating_is_committed_before_anything_else_happens(path: Path) -> None:
    with Journal(path, "t1") as journal:
        journal.add([("a", 2)])
        journal.creating("a")
        # Another connection (as after kill -9) sees it at once.
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT state FROM rows").fetchall() == [("creating",)]


def test_transitions_that_skip_a_state_are_refused(path: Path) -> None:
    with Journal(path, "t1") as journal:
        journal.add([("a", 2)])
        with pytest.raises(JournalError, match="'a' cannot move to created"):
            journal.created("a", "v1")  # never marked creating
        journal.creating("a")
        with pytest.raises(JournalError):
            journal.creating("a")  # a second create of the same key
        journal.created("a", "v1")
        with pytest.raises(JournalError):
            journal.failed("a", "refused")  # it has its video


def test_a_rerun_keeps_states_adds_new_rows_and_retries_refused_ones(path: Path) -> None:
    with Journal(path, "t1") as journal:
        journal.add([("a", 2), ("b", 3), ("c", 4)])
        journal.creating("a")
        journal.created("a", "v1")
        journal.failed("b", "upload failed")
        journal.creating("c")
        journal.created("c", "v3")
        journal.render_failed("c", "failed", "render failed")
    with Journal(path, "t1") as journal:
        journal.add([("a", 2), ("b", 3), ("c", 4), ("d", 5)])
        assert states(journal) == {"a": "created", "b": "pending", "c": "failed", "d": "pending"}
        assert journal.entries()["c"].video_id == "v3"


def test_reconciled_rows_go_back_to_pending(path: Path) -> None:
    with Journal(path, "t1") as journal:
        journal.add([("a", 2)])
        journal.creating("a")
        journal.not_created("a")
        assert states(journal) == {"a": "pending"}


def test_uploaded_files_are_remembered(path: Path) -> None:
    with Journal(path, "t1") as journal:
        assert journal.media_id("/clips/a.mp4") is None
        journal.uploaded("/clips/a.mp4", "m1")
    with Journal(path, "t1") as journal:
        assert journal.media_id("/clips/a.mp4") == "m1"


def test_one_run_at_a_time_and_one_template_per_journal(path: Path) -> None:
    with Journal(path, "t1"), pytest.raises(JournalError, match="in use by another campaign"):
        Journal(path, "t1")
    with pytest.raises(JournalError, match="journal of template t1, not t2"):
        Journal(path, "t2")
    Journal(path, "t1").close()  # the refused openings released the lock


@pytest.mark.parametrize(("durable", "level"), [(False, 1), (True, 2)])
def test_wal_mode_and_synchronous_level(path: Path, durable: bool, level: int) -> None:
    with Journal(path, "t1", durable=durable) as journal:
        assert journal._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert journal._db.execute("PRAGMA synchronous").fetchone() == (level,)


def test_a_file_that_is_not_a_journal_is_refused(path: Path) -> None:
    path.write_bytes(b"recipients, not a database\n" * 10)
    with pytest.raises(JournalError, match="is not a campaign journal: file is not a database"):
        Journal(path, "t1")
    assert path.read_bytes() == b"recipients, not a database\n" * 10  # left as it was
    with path.open("rb") as file:  # and its lock was released
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
