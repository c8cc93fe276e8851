"""The job table: every job name and the function that runs it.

A job function takes the Database and the job's payload (ids, never objects), opens its own
transaction, reloads what it needs, re-checks state, and is safe to run twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huiying.channels import delivery
from huiying.db import Database
from huiying.moderation import compliance
from huiying.portal import codes as portal_codes
from huiying.triage import service as triage

JobFunction = Callable[[Database, dict[str, Any]], None]

JOBS: dict[str, JobFunction] = {
    "deliver_message": delivery.deliver_message,
    "compliance_alert": compliance.send_alert,
    "triage_train": triage.train_job,
    portal_codes.JOB: portal_codes.send_code_job,
}
