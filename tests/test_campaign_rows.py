"""Reading and checking a campaign's recipients: file errors, row problems by line, inputs."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from pirsonal_async.campaign import RecipientsFileError, RowProblem, read_recipients
from pirsonal_async.campaign.rows import FIELDS, InputValue
from pirsonal_async.types import InputMedia, MediaType, Video


def write(tmp_path: Path, text: str, name: str = "recipients.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_optional_columns_are_video_fields() -> None:
    assert set(FIELDS) <= {field.name for field in attrs.fields(Video)}


def test_a_good_row_becomes_its_video(tmp_path: Path) -> None:
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "intro.mp4").write_bytes(b"clip")
    path = write(
        tmp_path,
        "key,name,email,first_name,input:clip:video,input:greeting:text,input:logo:image\n"
        "crm-1, Hi Ana ,ana@example.com,Ana,clips/intro.mp4,Hello Ana!,5331669c0fa9\n",
    )
    recipients = read_recipients(path)
    assert recipients.problems == ()
    [row] = recipients.rows
    assert (row.line, row.key, row.name, row.email, row.first_name) == (
        2,
        "crm-1",
        "Hi Ana",
        "ana@example.com",
        "Ana",
    )
    clip = str((tmp_path / "clips" / "intro.mp4").resolve())
    assert row.files == {clip}
    video = row.to_video({clip: "m-intro"})
    assert video == Video(
        name="Hi Ana",
        data="crm-1",
        email="ana@example.com",
        first_name="Ana",
        input_medias=[
            InputMedia(input_id="clip", type=MediaType.video, sezion_id="m-intro"),
            InputMedia(input_id="greeting", type=MediaType.text, text="Hello Ana!"),
            InputMedia(input_id="logo", type=MediaType.image, sezion_id="5331669c0fa9"),
        ],
    )


def test_bad_rows_are_reported_by_line_and_the_others_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "key,name,email,input:clip:video\n"
        "a,Ana,,m1\n"
        ",No key,,m1\n"
        "b,,,m1\n"
        "a,Ana again,,m1\n"
        "c,Cy,not-an-email,m1\n"
        "d,Di,,missing/clip.mp4\n"
        "e,Ed\n"
        '"f","Multi\nline",,m1\n'
        "g,Gil,,m1\n",
    )
    recipients = read_recipients(path)
    assert [row.key for row in recipients.rows] == ["a", "f", "g"]
    assert [row.line for row in recipients.rows] == [2, 9, 11]
    assert recipients.problems == (
        RowProblem(3, None, "key is empty"),
        RowProblem(4, "b", "name is empty"),
        RowProblem(5, "a", "duplicate key 'a' (first on line 2)"),
        RowProblem(6, "c", "email 'not-an-email' is not an email address"),
        RowProblem(7, "d", "input:clip:video: no such file: missing/clip.mp4"),
        RowProblem(8, None, "2 fields, but the header has 4"),
    )
    assert str(recipients.problems[0]) == "line 3: key is empty"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("name,email", "no 'key' column"),
        ("key,nmae", "unknown column 'nmae'.*no 'name' column"),
        ("key,name,input:clip:movie", r"column 'input:clip:movie' is not input:<inputID>:<video/"),
        ("key,name,input::text", "column 'input::text' is not"),
        ("key,name,key", "the header repeats a column name"),
    ],
)
def test_a_bad_header_stops_the_file(tmp_path: Path, header: str, message: str) -> None:
    with pytest.raises(RecipientsFileError, match=message):
        read_recipients(write(tmp_path, f"{header}\nx,y,z\n"))


def test_an_empty_or_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(RecipientsFileError, match="needs a header row"):
        read_recipients(write(tmp_path, ""))
    with pytest.raises(RecipientsFileError, match="cannot read"):
        read_recipients(tmp_path / "absent.csv")


def test_json_lines(tmp_path: Path) -> None:
    lines = [
        {
            "key": 42,
            "name": "Ana",
            "input:greeting:text": "Hi",
            "input:clip:video": "https://x/c.mp4",
        },
        "not json",
        ["a list"],
        {"key": "b", "name": "Ben", "phone": "123"},
        {"key": "c", "name": {"first": "Cy"}},
        {"key": "d", "name": "Di"},
    ]
    text = "\n".join(json.dumps(line) if not isinstance(line, str) else line for line in lines)
    recipients = read_recipients(write(tmp_path, text + "\n\n", "people.jsonl"))
    assert [(row.line, row.key) for row in recipients.rows] == [(1, "42"), (6, "d")]
    assert recipients.rows[0].inputs == (
        InputValue("greeting", MediaType.text, "text", "Hi"),
        InputValue("clip", MediaType.video, "http", "https://x/c.mp4"),
    )
    assert [(p.line, p.reason.split(":")[0]) for p in recipients.problems] == [
        (2, "not valid JSON"),
        (3, "not a JSON object"),
        (4, "columns not in the header"),
        (5, "name is not a string"),
    ]


def test_an_empty_input_gives_that_input_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "key,name,input:greeting:text\na,Ana,\n")
    [row] = read_recipients(path).rows
    assert row.to_video({}).input_medias is None
