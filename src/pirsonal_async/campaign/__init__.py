"""Campaigns: a list of people in, one personalized video each, exactly once.

```python
from pirsonal_async.campaign import run_campaign

report = await run_campaign(client, template_id, "recipients.csv", "campaign.db", wait=True)
print(report.summary())
```

- `rows`: reading and checking the recipients (CSV or JSON Lines); bad rows are reported by
  line and never sent.
- `journal`: the SQLite journal of each row's state, which makes a key's create happen at
  most once across retries, crashes and reruns.
- `runner`: the run itself: reconcile, upload, create (bounded concurrency), wait.
"""

from __future__ import annotations

from pirsonal_async.campaign.journal import Journal, JournalError
from pirsonal_async.campaign.rows import (
    Recipient,
    Recipients,
    RecipientsFileError,
    RowProblem,
    check_rows,
    read_recipients,
)
from pirsonal_async.campaign.runner import (
    CampaignProgress,
    CampaignReport,
    RowResult,
    run_campaign,
)

__all__ = [
    "CampaignProgress",
    "CampaignReport",
    "Journal",
    "JournalError",
    "Recipient",
    "Recipients",
    "RecipientsFileError",
    "RowProblem",
    "RowResult",
    "check_rows",
    "read_recipients",
    "run_campaign",
]
