"""A person taken in during an operation is protected from removal from the moment they are taken
in (ADR 0043), by the reception record's reference, through the protection app's sources
(ADR 0040). Once their draft has become a case, the case's reference answers for them, with
every source it has (the person's other referrals, those confirmed linked)."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from opennrm.accounts.models import User
from opennrm.protection.rules import Protection, Reason
from opennrm.protection.selectors import Finding, protection_for_reference
from opennrm.referrals.models import DraftStatus

from .selectors import lead_first_responders, reception_record_for_reference

SOURCE = "operations"
TAKEN_IN = "taken in during an operation; a referral is being made"


def reception_source(reference: str, on: date) -> Finding | None:
    """The protection of a reception record's reference; None if it is not one."""
    record = reception_record_for_reference(reference)
    if record is None:
        return None
    draft = record.draft
    if draft is None:
        if not record.treated_as_child:
            # An adult who declined (the draft deleted): no referral is being made, so the
            # operation gives no protection (the answer is the unprotected one).
            return None
        # A child, or a person whose age is disputed, does not consent to a referral and so
        # cannot decline one (MSA 2015 s.51, CETS Art. 10(3)); children's services were told
        # when they were taken in. Their draft cannot be deleted by hand
        # (`referrals.services.draft_delete`); gone all the same, they stay protected.
    elif draft.status == DraftStatus.REPORTED:
        # Reported under the duty to notify without consent: no referral is being made.
        return None
    elif draft.case is not None:
        # The case's reference answers (ADR 0040: both references give the same answer): the
        # case's own status, the person's other referrals, those confirmed linked to it.
        return protection_for_reference(draft.case.reference, on)
    operation = record.operation

    def alert_recipients() -> list[User]:
        # The responder who took them in, and the lead's first responders.
        return list(dict.fromkeys([record.taken_in_by, *lead_first_responders(operation)]))

    return Finding(
        Protection(protected=True, reason=Reason.OTHER_SOURCE, source=SOURCE, explanation=TAKEN_IN),
        record=record,
        alert_recipients=alert_recipients,
        url=reverse("operations:board", args=[operation.id]),
    )
