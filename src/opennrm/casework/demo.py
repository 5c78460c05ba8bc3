"""Fictional notes and tasks on the demo cases, made through the real services, after the
referrals and decisions demo steps. Idempotent: a case that has notes is left as it is."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User
from opennrm.cases.models import Case

from . import selectors, services
from .models import CaseNote, Visibility

RESPONDER = "responder@demo.opennrm.test"
DECIDER = "decisions@demo.opennrm.test"
SAFEGUARDING = "safeguarding@demo.opennrm.test"


def _user(email: str) -> User | None:
    return User.objects.filter(email=email).first()


@transaction.atomic
def seed() -> None:
    responder, decider, lead = _user(RESPONDER), _user(DECIDER), _user(SAFEGUARDING)
    if responder is None or decider is None:
        return
    today = timezone.localdate()
    cases = Case.objects.filter(referred_by=responder, person__erasure__isnull=True).order_by(
        "submitted_at"
    )
    adult = cases.filter(age_group="adult").first()
    if adult is not None and not CaseNote.objects.filter(case=adult).exists():
        services.case_note_add(
            by=responder,
            case=adult,
            text="Phoned her safe contact number: answered, she is well and has her inhaler "
            "(fictional demo note).",
            visibility=Visibility.OWN_ORGANISATION,
        )
        services.case_note_add(
            by=responder,
            case=adult,
            text="She can be interviewed with a woman interpreter any weekday morning "
            "(fictional demo note).",
            visibility=Visibility.COMPETENT_AUTHORITY,
        )
        services.case_note_add(
            by=decider,
            case=adult,
            text="Account consistent with the indicators; ask the referrer for the crime "
            "report (fictional demo note).",
            visibility=Visibility.OWN_ORGANISATION,
        )
        services.case_task_add(
            by=responder,
            case=adult,
            title="Send the crime report to the competent authority",
            owner=responder,
            due_on=today,
        )
        services.case_task_add(
            by=decider,
            case=adult,
            title="Review the crime report when it arrives",
            owner=decider,
            due_on=today + timedelta(days=3),
        )
    child = cases.exclude(age_group="adult").first()
    if child is not None and not CaseNote.objects.filter(case=child).exists():
        # Shared with children's services where someone there uses OpenNRM (the demo's lead's
        # area; a generated volume's children may be elsewhere): else kept to the force.
        offered = {
            value for value, _ in selectors.visibility_choices(child, child.referring_organisation)
        }
        services.case_note_add(
            by=responder,
            case=child,
            text="Foster placement found for tonight; school place being arranged "
            "(fictional demo note).",
            visibility=Visibility.CHILDRENS_SERVICES
            if Visibility.CHILDRENS_SERVICES.value in offered
            else Visibility.OWN_ORGANISATION,
        )
        if lead is not None and selectors.parties_of(Actor.of_session(lead), child).all:
            services.case_task_add(
                by=lead,
                case=child,
                title="Arrange the age assessment",
                owner=lead,
                due_on=today + timedelta(days=1),
            )
