"""Review (diffs2): the late reconsideration request's own record (who asked, when it came,
the exceptional circumstances) is written but nowhere read back."""

from __future__ import annotations

from datetime import date

import time_machine
from django.urls import reverse

from opennrm.accounts.models import User
from opennrm.cases.models import Case
from opennrm.decisions import services
from opennrm.privacy import services as privacy

from . import case_factories, factories
from .decision_helpers import fresh

REFUSED_RG = "2026-03-02 10:00:00+00:00"
LATE = "2026-05-04 10:00:00+00:00"
CIRCUMSTANCES = "In hospital at Ashgrove Infirmary from before the decision until 20 April."


def _taken_late(case: Case, dmitri: User, sally: User):
    with time_machine.travel(REFUSED_RG, tick=False):
        case_factories.refused_at_reasonable_grounds(fresh(case), decider=dmitri, approver=sally)
    with time_machine.travel(LATE, tick=False):
        return services.reconsideration_take_late(
            by=sally,
            case=fresh(case),
            asked_by="legal_representative",
            received_on=date(2026, 4, 30),
            grounds="A psychiatric report.",
            circumstances=CIRCUMSTANCES,
            expected_version=fresh(case).version,
        )


def test_the_subject_access_export_gives_the_exceptional_circumstances_of_a_late_request(
    case: Case, dmitri: User, sally: User, dpo: User
) -> None:
    """What the person would see: their subject access export lists the reconsideration with
    its grounds but not the exceptional circumstances the decision maker recorded about them
    (encrypted free text such as "in hospital until 20 April", `late_circumstances`), nor who
    asked or when it came. It is personal data held about them (the same release added the
    second decision maker's note for that reason): the export should give it."""
    _taken_late(case, dmitri, sally)
    data = privacy.subject_access_export(by=dpo, person=case.person, request_reference="DPR-9")
    [item] = data["cases"][0]["reconsiderations"]
    assert CIRCUMSTANCES in str(item), item


def test_the_decide_page_of_a_late_request_says_who_asked_and_why_it_was_taken_late(
    case: Case, dmitri: User, sally: User
) -> None:
    """What the decision maker deciding it sees: "Asked for by Sally <the decision maker who
    typed it in>", and neither who really asked (the legal representative), when the request
    came, nor the exceptional circumstances it was taken in for. The page deciding the
    reconsideration should show them."""
    request = _taken_late(case, dmitri, sally)
    with time_machine.travel(LATE, tick=False):
        page = (
            factories.signed_in_client(dmitri)
            .get(reverse("decisions:reconsideration", args=[request.pk]))
            .content.decode()
        )
    assert "A psychiatric report." in page  # the page itself works
    assert "legal representative" in page.lower(), "who asked is not shown"
    assert "Ashgrove Infirmary" in page, "the exceptional circumstances are not shown"
