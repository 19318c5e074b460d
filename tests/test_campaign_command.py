"""`pirsonal campaign`'s own parts: the progress line, usage errors before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from pirsonal_async.campaign import CampaignProgress, Journal
from pirsonal_async.campaign.command import render_campaign
from pirsonal_async.cli import main


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials for a server that is not there: nothing may be sent."""
    monkeypatch.setenv("PIRSONAL_ACCOUNT_ID", "acc")
    monkeypatch.setenv("PIRSONAL_ACCOUNT_SECRET", "secret")
    monkeypatch.setenv("PIRSONAL_BASE_URL", "http://127.0.0.1:9")  # nothing may be sent


def progress(finished: int, before: int = 0) -> CampaignProgress:
    return CampaignProgress(
        total=300,
        finished=finished,
        created=finished,
        rendered=finished - 10,
        failed=2,
        finished_before=before,
    )


def test_the_progress_line_shows_counts_rate_and_eta() -> None:
    line = render_campaign(progress(150, before=50), 4.0, waiting=True)
    assert line == (
        "[##########          ]  50%  150/300 rows  25.0/s  ETA 0:06  "
        "(150 with a video, 140 rendered, 2 failed)"
    )
    assert render_campaign(progress(0), 0.0, waiting=False).endswith(
        "0/300 rows  0.0/s  ETA -:--  (0 with a video, 2 failed)"
    )


@pytest.mark.parametrize(
    ("csv", "options", "message"),
    [
        ("key,nmae\na,b\n", [], "unknown column 'nmae'"),
        ("key,name\na,b\n", ["--concurrency", "0"], "--concurrency must be 1 or more"),
        ("key,name\na,b\n", ["--wait-timeout", "0"], "--wait-timeout must be positive"),
    ],
)
def test_usage_errors_exit_2_before_anything_is_sent(
    tmp_path: Path,
    no_server: None,
    capsys: pytest.CaptureFixture[str],
    csv: str,
    options: list[str],
    message: str,
) -> None:
    recipients = tmp_path / "people.csv"
    recipients.write_text(csv, encoding="utf-8")
    journal = tmp_path / "j.db"

    status = main(["campaign", "t1", str(recipients), "--journal", str(journal), *options])

    assert status == 2
    assert message in capsys.readouterr().err
    assert not journal.exists()


def test_a_journal_of_another_template_is_a_usage_error(
    tmp_path: Path, no_server: None, capsys: pytest.CaptureFixture[str]
) -> None:
    recipients = tmp_path / "people.csv"
    recipients.write_text("key,name\na,Ana\n", encoding="utf-8")
    journal = tmp_path / "j.db"
    Journal(journal, "t1").close()

    status = main(["campaign", "t2", str(recipients), "--journal", str(journal)])

    assert status == 2
    assert f"{journal} is the journal of template t1, not t2" in capsys.readouterr().err
