"""Decision letters and reconsiderations, found by a lawyer's review: an extension of a period
already over is refused (its letter would state an end already past); the decision in effect
after a reconsideration names the one it replaces, even after a refused redraft; a late request
is told the exceptional route, not that only a judicial review remains."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from opennrm.accounts.models import User
from opennrm.cases.models import Case
from opennrm.decisions import letters, services
from opennrm.decisions.models import Decision, DecisionState, Letter

from . import case_factories
from .decision_helpers import fresh

RG_DAY = "2026-03-02 10:00:00+00:00"  # recovery period (30 days, beginning with) ends 31 March
LONG_AFTER = "2026-05-20 10:00:00+00:00"


def _english(case: Case) -> Case:
    case.person.languages = ["en"]
    case.person.save(update_fields=["languages"])
    return case


def test_an_extension_granted_after_the_period_ended_never_states_an_end_already_past(
    case: Case, dmitri: User
) -> None:
    """The person's lawyer relies on the extension letter. A recovery period that ended on
    31 March is "extended" on 20 May by 14 days: the letter dated 20 May tells the person
    "Your recovery period now lasts until 14 April 2026", a day already past, so the extension
    protects nothing while reading as if it did. The service's own rule is that "only a
    recovery period that is running can be extended" (decisions.services.recovery_extend);
    an additional recovery period must run at least to the day it is granted (FACTS 2.6:
    NABA's "additional recovery periods"; an end that day still protects that day, stop 41).
    Expected: refused, or counted so it ends no earlier than the letter's date."""
    _english(case)
    with time_machine.travel(RG_DAY, tick=False):
        services.decision_record_reasonable_grounds(
            by=dmitri,
            case=case,
            outcome="positive",
            reasons="Credible.",
            expected_version=case.version,
        )
    case = fresh(case)
    assert case.recovery_period_ends == date(2026, 3, 31)
    with time_machine.travel(LONG_AFTER, tick=False):
        # Refused, saying how long an extension would have to be to run to today: 50 days,
        # from 31 March to 20 May, the day of the request (an end today is not past).
        with pytest.raises(ValidationError, match="Extend it by at least 50 days"):
            services.recovery_extend(
                by=dmitri, case=case, days=14, reasons="Hospital.", expected_version=case.version
            )
        assert not Letter.objects.filter(decision__kind="recovery_extension").exists()
        # Long enough, it is granted, and its letter states an end after its own date.
        extension = services.recovery_extend(
            by=dmitri, case=case, days=51, reasons="Hospital.", expected_version=case.version
        )
    letter = Letter.objects.get(decision=extension)
    stated = date.fromisoformat(letter.dates_stated["recovery_period_ends"])
    assert stated > letter.issued_on, (
        f"letter dated {letter.issued_on} says the recovery period lasts until {stated}: "
        + letters.LetterText.from_json(letter.text).next
    )


def _negative_rg(case: Case, dmitri: User) -> Decision:
    case = fresh(case)
    return services.decision_record_reasonable_grounds(
        by=dmitri,
        case=case,
        outcome="negative",
        negative_reason="insufficient_information",
        reasons="Still not enough.",
        expected_version=case.version,
    )


def test_the_decision_in_effect_after_a_reconsideration_names_the_one_it_replaces_even_after_a_refused_draft(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    """After an accepted reconsideration "the new decision names the one it replaces"
    (decisions.services._decide; DecisionOut.replaces in the API). If the first new draft is
    not approved by the second decision maker, the draft that finally takes effect names
    nothing: the record (and the API a lawyer or the statistics read) no longer shows that the
    decision in effect was made on reconsideration of the earlier one. Expected: the decision
    that takes effect replaces the superseded decision."""
    refused = case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    first = refused.decisions.get(state=DecisionState.IN_EFFECT)
    request = services.reconsideration_request(
        by=alice, case=refused, grounds="New medical evidence.", expected_version=refused.version
    )
    services.reconsideration_decide(
        by=dmitri,
        request=request,
        accept=True,
        reasons="New evidence.",
        expected_version=fresh(refused).version,
    )
    draft = _negative_rg(refused, dmitri)
    assert draft.replaces_id == first.pk
    services.decision_approve(by=sally, decision=draft, approve=False, note="Reasons too thin.")
    second = _negative_rg(refused, dmitri)
    services.decision_approve(by=sally, decision=second, approve=True)
    second.refresh_from_db()
    assert second.state == DecisionState.IN_EFFECT
    assert second.replaces_id == first.pk, (
        f"the decision in effect replaces {second.replaces_id}, not the superseded {first.pk}"
    )


def test_a_late_request_is_not_told_that_only_judicial_review_remains(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    """FACTS 2.7: a reconsideration "must be made within 30 calendar days of a negative RG or
    CG, extendable only in exceptional circumstances". A first responder asking on day 31 (the
    person was in hospital, or only now found the evidence) is told "only a judicial review
    can challenge the decision now" (decisions.services.reconsideration_request), and the
    authority has no way to take the late request. The person loses the free, quick route the
    guidance keeps open for exceptional cases. Expected: the refusal does not say judicial
    review is the only remedy (and the authority can accept a late request for exceptional
    reasons)."""
    import time_machine
    from django.core.exceptions import ValidationError

    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        refused = case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)
    assert refused.reconsideration_until is not None
    with time_machine.travel("2026-04-02 10:00:00+00:00", tick=False):  # day 31
        try:
            services.reconsideration_request(
                by=alice,
                case=refused,
                grounds="She was in hospital until yesterday; new medical evidence attached.",
                expected_version=refused.version,
            )
        except ValidationError as refusal:
            message = " ".join(refusal.messages)
            assert "only a judicial review" not in message, message
