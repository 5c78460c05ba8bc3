"""The only writer of audit events. Every service that changes something calls `audit_record`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from . import context
from .models import AuditEvent

if TYPE_CHECKING:
    from opennrm.accounts.models import Organisation, User


def audit_record(
    *,
    by: User | None,
    action: str,
    obj: models.Model | None = None,
    organisation: Organisation | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `by=None` means the system itself (a command or a scheduled task)."""
    request = context.current()
    return AuditEvent.objects.create(
        actor=by,
        actor_label=by.email if by is not None else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        organisation=organisation,
        ip_address=request.ip_address if request else None,
        request_id=request.request_id if request else "",
        detail=detail or {},
    )
