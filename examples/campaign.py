"""A short campaign: a few people in, one rendered video each, exactly once.

Run by `make demo` against the sandbox, or by hand with the PIRSONAL_* variables set (see
quickstart.py). It makes a template, writes a recipients file (one row of it is bad on
purpose) and runs `pirsonal campaign` twice: the second run makes nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pirsonal_async import PirsonalClient
from pirsonal_async.types import TemplateNew, VideoOutput, VideoOutputType

SCRIPT = [
    {"video": {"id": "clip", "play": 0, "duration": 4000}},
    {"text": {"id": "greeting", "play": 500, "duration": 3000}},
]
RECIPIENTS = """\
key,name,first_name,email,input:clip:video,input:greeting:text
crm-1,Welcome Ana,Ana,ana@example.com,intro.mp4,Hello Ana!
crm-2,Welcome Ben,Ben,ben@example.com,intro.mp4,Hello Ben!
crm-3,Welcome Chloé,Chloé,chloe@example,intro.mp4,Hello Chloé!
crm-4,Welcome Dev,Dev,dev@example.com,intro.mp4,Hello Dev!
"""


async def make_template(base_url: str, account_id: str, account_secret: str) -> str:
    async with PirsonalClient(account_id, account_secret, base_url=base_url) as pirsonal:
        return await pirsonal.template_new(
            TemplateNew(
                name="Welcome campaign",
                description="One welcome per person",
                input_scripts=[json.dumps(SCRIPT)],
                out_profiles=["MP4_H264_AAC_640x480_24fps"],
                video_output=VideoOutput(type=VideoOutputType.sezion),
            )
        )


def main() -> int:
    settings = [os.environ[name] for name in ("PIRSONAL_BASE_URL", "PIRSONAL_ACCOUNT_ID")]
    template_id = asyncio.run(make_template(*settings, os.environ["PIRSONAL_ACCOUNT_SECRET"]))
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "intro.mp4").write_bytes(os.urandom(100_000))  # the sandbox decodes nothing
        (work / "people.csv").write_text(RECIPIENTS, encoding="utf-8")
        command = [
            *("pirsonal", "campaign", template_id, "people.csv", "--journal", "people.db"),
            *("--wait", "--out", "results.jsonl"),
        ]
        print(f"$ {' '.join(command)}", flush=True)
        run = [sys.executable, "-m", "pirsonal_async", *command[1:]]
        first = subprocess.run(run, cwd=work, check=False)
        for line in (work / "results.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            outcome = row["video_id"] or row["error"]
            print(f"  line {row['line']}: {row['key'] or '-'} {row['status']}: {outcome}")
        print(f"\n$ {' '.join(command)}   # again: nothing is made twice", flush=True)
        second = subprocess.run(run, cwd=work, check=False)
    return first.returncode or second.returncode


if __name__ == "__main__":
    sys.exit(main())
