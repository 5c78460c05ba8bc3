"""Review gaps of the privacy app found while fixing other defects (stop 37)."""

from __future__ import annotations

from datetime import date

import time_machine

from opennrm.accounts.models import User
from opennrm.cases.models import Case
from opennrm.decisions import services
from opennrm.privacy import services as privacy

from . import case_factories
from .decision_helpers import fresh

REFUSED_RG = "2026-03-02 10:00:00+00:00"
TAKEN_IN = "2026-03-20 10:00:00+00:00"


def test_the_subject_access_export_says_who_asked_for_a_reconsideration_taken_in_in_time(
    case: Case, dmitri: User, sally: User, dpo: User
) -> None:
    """Since stop 37 a decision maker also takes in a request for reconsideration that reached
    the authority in time, by letter or e-mail (`reconsideration_take_late`: `late` False, with
    who asked and the day it arrived). Zorica's subject access export listed such a request
    with `requested_at` and nothing else about it: it did not say that her legal
    representative asked, nor the day the request reached the authority (the day that decides
    whether it was in time), though both are held about her and the export gives them for a
    late request. Cause: privacy.selectors._case gave them only `if item.late`; it should give
    them for every request taken in (`late_asked_by` set)."""
    with time_machine.travel(REFUSED_RG, tick=False):
        case_factories.refused_at_reasonable_grounds(fresh(case), decider=dmitri, approver=sally)
    with time_machine.travel(TAKEN_IN, tick=False):
        request = services.reconsideration_take_late(
            by=sally,
            case=fresh(case),
            asked_by="legal_representative",
            received_on=date(2026, 3, 18),
            grounds="A psychiatric report.",
            circumstances="",
            expected_version=fresh(case).version,
        )
    assert not request.late
    data = privacy.subject_access_export(by=dpo, person=case.person, request_reference="DPR-9")
    [item] = data["cases"][0]["reconsiderations"]
    assert item["grounds"] == "A psychiatric report."
    assert item.get("asked_late_by") == "Their legal representative", item
    assert item.get("reached_the_authority_on") == "2026-03-18", item
    assert item.get("exceptional_circumstances") == "", item


def test_the_subject_access_export_says_nothing_of_who_asked_for_a_request_made_in_opennrm(
    case: Case, alice: User, dmitri: User, sally: User, dpo: User
) -> None:
    """A request the referrer made through OpenNRM was not taken in: the export gives no
    empty "asked by" for it."""
    with time_machine.travel(REFUSED_RG, tick=False):
        case_factories.refused_at_reasonable_grounds(fresh(case), decider=dmitri, approver=sally)
    with time_machine.travel(TAKEN_IN, tick=False):
        services.reconsideration_request(
            by=alice,
            case=fresh(case),
            grounds="A psychiatric report.",
            expected_version=fresh(case).version,
        )
    data = privacy.subject_access_export(by=dpo, person=case.person, request_reference="DPR-9")
    [item] = data["cases"][0]["reconsiderations"]
    assert "asked_late_by" not in item
