"""The statistics app's writes: only the audit events of what analysts download (it has no
tables of its own)."""

from __future__ import annotations

from django.db import transaction

from opennrm.accounts.models import User
from opennrm.audit.services import audit_record


@transaction.atomic
def extract_download_record(
    *, by: User, kind: str, period: str, rows: int, k: int, suppressed: int, total: int
) -> None:
    """One download of the de-identified extract (`kind` "extract" or "ctdc"): its period, its
    row count, k, and how many referrals were suppressed. It names no person: there is none in
    the file."""
    audit_record(
        by=by,
        action="statistics.extract_downloaded",
        detail={
            "kind": kind,
            "period": period,
            "rows": rows,
            "k": k,
            "suppressed": suppressed,
            "referrals": total,
        },
    )
