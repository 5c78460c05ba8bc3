"""The demo's operation story (issue 14, item 7): Operation Harbour Lights found 167 people over a
week, the women's safe house of the demo (Lantern House A, 35 beds) had 8 free beds, its
provider added 10 surge places, and this is what followed, so that the operation's pages (the
list, the forecast, the board, the surge places, the protection check, the report) have
something real to show, and its public account is published as an official statistics release.

It spans operations (reception, surge places, held beds), referrals (the drafts completed and
submitted, reported under the duty to notify, or deleted), accommodation (the placements),
decisions, care (a missing person) and protection (a removal planned for one of them), so it
is composed here, above those apps, after their
own demo data (`demo_data`'s steps). Everything goes through the services, as on the night,
except what has to be dated in the past: the safe house's other residents (written as
`pages.demo` writes its history), the times people were taken in, and the operation's end.

On the day the demo is seeded: Lantern House A has 35 beds, 27 occupied and 8 free (2 of them
held for the upcoming Operation Quiet Tide); Harbour Lights' 10 surge places are all taken, and
10 more are agreed for Quiet Tide, whose forecast shows how far short the places fall.
Idempotent: once Harbour Lights has taken anyone in, it is left as it is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accommodation.demo import SAFE_HOUSE, SAFE_HOUSE_BEDS
from opennrm.accommodation.models import (
    Bed,
    BedEvent,
    Placement,
    PlacementRequest,
    PlacementRequestStatus,
    PlacementStatus,
    Site,
)
from opennrm.accounts.models import Organisation, User
from opennrm.care import services as care
from opennrm.cases.models import Case
from opennrm.decisions import services as decisions
from opennrm.decisions.demo import decided_in_the_past
from opennrm.operations import demo as operations_demo
from opennrm.operations import services as operations
from opennrm.operations import surge
from opennrm.operations.models import AgeGroup, Operation, ReceptionRecord
from opennrm.protection.models import PlannedRemoval
from opennrm.protection.services import planned_removal_record
from opennrm.referrals import services as referrals
from opennrm.referrals import steps, synthetic_volume
from opennrm.referrals.models import ReferralDraft

PROVIDER = "Lanternhouse Refuge Trust"
# Beds occupied in the safe house on the day the demo is seeded; the rest are free.
OCCUPIED = 27
FREE = SAFE_HOUSE_BEDS - OCCUPIED
SURGE_PLACES = 10
# Beds of the free ones held for the upcoming operation.
HELD = 2
RESIDENTS_NOTE = "Demo history: a resident before the operation"

NATIONALITY = {"ro": "RO", "sq": "AL", "vi": "VN", "zh": "CN", "pl": "PL"}
# The languages the safe house's staff speak (accommodation.demo): the women placed there.
HOUSE_LANGUAGES = ("ro", "sq")


class Outcome:
    """What followed for one person taken in."""

    PLACED_IN_HOUSE = "placed in the safe house"
    PLACED_IN_SURGE = "placed in a surge place"
    MISSING = "missing"
    NEGATIVE = "referred, negative reasonable grounds decision"
    DECLINED = "declined: draft deleted"
    DUTY_TO_NOTIFY = "duty to notify only"
    DRAFT = "draft: referral being made"
    REFERRED = "referred"


@dataclass
class Person:
    sex: str
    age_group: str
    exploitation: str
    language: str
    age: int
    needs: list[str]
    description: str = ""
    outcome: str = Outcome.REFERRED
    day: int = 0  # days after the operation started that they were taken in


def people(rng: random.Random) -> list[Person]:
    """The 167 people of `operations.demo.EXPECTED`, in the order they were taken in, each with
    a description (never a name) and what followed for them."""
    found = []
    for (sex, age_group, exploitation), number in operations_demo.EXPECTED.items():
        for _ in range(number):
            adult = age_group == AgeGroup.ADULT
            age = rng.randint(19, 48) if adult else rng.randint(13, 17)
            language = rng.choice(operations_demo.LANGUAGES)
            # Nearly everyone needs a bed tonight; some also a doctor.
            needs = ["bed_tonight"] if adult and sex == "male" and rng.random() < 0.4 else []
            if sex != "male" or not adult:
                needs = ["bed_tonight"]
            if needs and rng.random() < 0.15:
                needs.append("medical")
            found.append(Person(sex, age_group, exploitation, language, age, needs))
    rng.shuffle(found)
    total = len(found)
    for sequence, person in enumerate(found):
        person.day = sequence * 7 // total
        who = {
            ("female", True): "Woman",
            ("male", True): "Man",
            ("female", False): "Girl",
            ("male", False): "Boy",
        }.get((person.sex, person.age_group == AgeGroup.ADULT), "Person")
        place = rng.choice(["room", "flat", "van", "kitchen", "back room", "car wash"])
        person.description = f"{who}, about {person.age}, {place} {rng.randint(1, 9)} (fictional)"
    _decide_outcomes(found)
    return found


def _decide_outcomes(found: list[Person]) -> None:
    women = [p for p in found if p.sex == "female" and p.age_group == AgeGroup.ADULT]
    men = [p for p in found if p.sex == "male" and p.age_group == AgeGroup.ADULT]
    # The places went to women the staff can talk to, in the order they were found.
    speakers = [p for p in women if p.language in HOUSE_LANGUAGES]
    others = [p for p in women if p.language not in HOUSE_LANGUAGES]
    plan = [Outcome.PLACED_IN_HOUSE] * FREE + [Outcome.PLACED_IN_SURGE] * SURGE_PLACES
    for person, outcome in zip(speakers, plan, strict=False):
        person.outcome = outcome
    waiting = [p for p in women if p.outcome == Outcome.REFERRED]
    for person, outcome in zip(
        others,
        [Outcome.DECLINED] * 3 + [Outcome.DUTY_TO_NOTIFY] * 4 + [Outcome.DRAFT] * 3,
        strict=False,
    ):
        person.outcome = outcome
    waiting = [p for p in waiting if p.outcome == Outcome.REFERRED]
    waiting[-1].outcome = Outcome.NEGATIVE
    waiting[-2].outcome = waiting[-3].outcome = Outcome.MISSING
    for person, outcome in zip(
        men, [Outcome.DECLINED] * 2 + [Outcome.DUTY_TO_NOTIFY] * 8 + [Outcome.DRAFT], strict=False
    ):
        person.outcome = outcome


def _answers(person: Person) -> dict[str, dict[str, Any]]:
    """The referral's pages the reception record left to answer, as the responder completed
    them in the days after (raw values, as typed)."""
    adult = person.age_group == AgeGroup.ADULT
    sexual = person.exploitation == "sexual"
    prefix = ("A" if adult else "C") + ("S" if sexual else "L")
    if person.outcome == Outcome.DUTY_TO_NOTIFY:
        return {
            "consent": {
                "consents_to_referral": "no",
                "consents_to_support": "no",
                "explanation_version": "opennrm-consent-2026-1",
                "explanation_language": person.language,
            },
            "person": {
                "sex": person.sex,
                "estimated_age": str(person.age),
                "nationality_1": NATIONALITY[person.language],
            },
            "exploitation": {
                "types": [person.exploitation],
                "location": "uk",
                "area": "Northmoor",
            },
        }
    answers: dict[str, dict[str, Any]] = {
        "person": {
            "sex": person.sex,
            "given_names": person.description,
            "estimated_age": str(person.age),
            "nationality_1": NATIONALITY[person.language],
            "language_1": person.language,
            "interpreter_needed": "yes",
        },
        "exploitation": {
            "types": [person.exploitation],
            "location": "both",
            "area": "Northmoor",
            "in_immigration_detention": "no",
            **({"under_18_when_began": "no"} if adult else {}),
        },
        "indicators": {
            "observed": [f"{prefix}-{d}-0{n}" for d in ("DR", "EX", "CD") for n in (1, 2)]
        },
        "account": {
            "persons_account": "",
            "responders_account": "Found during Operation Harbour Lights (fictional demo case).",
        },
    }
    if adult:
        answers = {
            "consent": {
                "consents_to_referral": "yes",
                "consents_to_support": "yes",
                "explanation_version": "opennrm-consent-2026-1",
                "explanation_language": person.language,
            },
            **answers,
        }
    if not person.needs:
        answers["needs"] = {"needs": ["none"], "details": ""}
    return answers


@transaction.atomic
def seed() -> None:
    police = Organisation.objects.get(name="Northmoor Constabulary")
    operation = Operation.objects.filter(
        name=operations_demo.NAME, lead_organisation=police
    ).first()
    provider = Organisation.objects.filter(name=PROVIDER).first()
    house = Site.objects.filter(provider=provider, name=SAFE_HOUSE).first()
    if operation is None or house is None or provider is None or operation.reception.exists():
        return
    today = timezone.localdate()
    started = operation.starts_on + timedelta(days=operations_demo.STARTED_DAYS_AGO)
    if started != today or operation.ends_on != today:
        return  # planned on another day, or by an earlier demo: left as it is
    user = {
        key: User.objects.get(email=f"{key}@demo.opennrm.test")
        for key in ("responder", "safeguarding", "safehouse", "coordinator", "decisions", "senior")
    }
    _residents(house, OCCUPIED - FREE)
    added = surge.surge_add(
        by=user["safehouse"],
        operation=operation,
        provider=provider,
        site=house,
        places=SURGE_PLACES,
        starts_on=operation.starts_on,
        ends_on=today + timedelta(days=18),
        funding_note="The force's operation budget, for four weeks (fictional).",
    )
    found = people(random.Random(167))  # noqa: S311 - reproducible fictional data
    records = _take_in(operation, found, user)
    cases = _follow_up(records, found, user)
    _place(cases, found, house, added.room_id, user)
    _decide(cases, found, user)
    _places_for_the_next_operation(police, provider, house, user["safehouse"])
    _plan_a_removal(records, found)
    # The operation ended three days ago (history: written directly, as `pages.demo` does).
    Operation.objects.filter(pk=operation.pk).update(
        ends_on=today - timedelta(days=operations_demo.ENDED_DAYS_AGO)
    )
    _publish_the_account(operation)


def _publish_the_account(operation: Operation) -> None:
    """Its public account (ADR 0046), prepared by one demo analyst and approved by the other,
    so that /official-statistics/ shows what an operation's account looks like."""
    from opennrm.accounts.actor import Actor
    from opennrm.statistics import releases

    version = releases.prepare_operation_release(
        by=Actor(User.objects.get(email="analyst@demo.opennrm.test")),
        operation_id=operation.pk,
        title=f"{operation.name}: the account of an enforcement operation",
        notes="Demo release: every figure comes from the fictional demo data.",
    )
    releases.approve_release(
        by=Actor(User.objects.get(email="analyst2@demo.opennrm.test")), version=version
    )


def _residents(house: Site, wanted: int) -> None:
    """Fill the safe house's own beds to `wanted` occupied, with women who arrived in the
    months before the operation (synthetic people, decided as people are)."""
    regular = Bed.objects.filter(room__site=house, operation_id=None)
    taken = set(Placement.objects.holding_a_bed().values_list("bed_id", flat=True))
    free = [bed for bed in regular.order_by("pk") if bed.pk not in taken]
    missing = wanted - (regular.count() - len(free))
    if missing <= 0:
        return
    before = set(Case.objects.values_list("pk", flat=True))
    synthetic_volume.generate(missing, seed=35, person=("female", "adult"))
    made = list(Case.objects.exclude(pk__in=before).select_related("person").order_by("pk"))
    now = timezone.now()
    for n, (case, bed) in enumerate(zip(made, free, strict=False)):
        arrived = now - timedelta(days=12 + 5 * n)
        decided_in_the_past(
            case,
            referred=arrived - timedelta(days=1),
            reasonable_grounds=("positive", timezone.localdate(arrived + timedelta(days=3))),
        )
        request = PlacementRequest.objects.create(
            case=case,
            needs=["bed_tonight"],
            urgency="emergency",
            needed_from=timezone.localdate(arrived),
            status=PlacementRequestStatus.PLACED,
            closed_at=arrived,
            **accommodation.request_defaults(case),
        )
        placement = Placement.objects.create(
            request=request,
            bed=bed,
            status=PlacementStatus.OCCUPIED,
            why=RESIDENTS_NOTE,
            proposed_at=arrived - timedelta(hours=6),
            reserved_at=arrived - timedelta(hours=6),
            responded_at=arrived - timedelta(hours=4),
            arrived_on=timezone.localdate(arrived),
        )
        BedEvent.objects.bulk_create(
            BedEvent(bed=bed, at=at, state=state, placement=placement, note=RESIDENTS_NOTE)
            for at, state in ((arrived - timedelta(hours=6), "reserved"), (arrived, "occupied"))
        )


def _take_in(
    operation: Operation, found: list[Person], user: dict[str, User]
) -> list[ReceptionRecord]:
    """Everyone taken in through the reception service, on the day they were found: the adults
    by the force's responder, the children by the council's safeguarding lead."""
    records = []
    for person in found:
        day = operation.starts_on + timedelta(days=person.day)
        record = operations.reception_take_in(
            by=user["responder" if person.age_group == AgeGroup.ADULT else "safeguarding"],
            operation=operation,
            name_or_description=person.description,
            sex=person.sex,
            age_group=person.age_group,
            language=person.language,
            urgent_needs=person.needs,
            interpreter_needed=True,
            today=day,
        )
        records.append(record)
    # When each was taken in (the service stamps the present): through the night of their day.
    for record, person in zip(records, found, strict=True):
        day = operation.starts_on + timedelta(days=person.day)
        at = timezone.make_aware(datetime.combine(day, time(22, 0))) + timedelta(
            minutes=7 * (record.sequence % 60)
        )
        ReceptionRecord.objects.filter(pk=record.pk).update(taken_in_at=at)
    return records


def _follow_up(
    records: list[ReceptionRecord], found: list[Person], user: dict[str, User]
) -> dict[int, Case]:
    """Each draft as its responder left it: completed and submitted (a case, or a duty to
    notify report), deleted when the person declined, or still a draft. The cases by the
    person's index."""
    cases = {}
    for index, (record, person) in enumerate(zip(records, found, strict=True)):
        by = record.taken_in_by
        draft = ReferralDraft.objects.get(reception_record=record)
        if person.outcome == Outcome.DECLINED:
            referrals.draft_delete(by=by, draft=draft)
            continue
        if person.outcome == Outcome.DRAFT:
            continue
        for slug, data in _answers(person).items():
            merged = {**draft.answers.get(slug, {}), **data}
            draft = referrals.draft_save_answers(
                by=by, draft=draft, step=steps.STEP_BY_SLUG[slug], data=merged
            )
        submitted = referrals.referral_submit(by=by, draft=draft)
        if submitted.case is not None:
            cases[index] = submitted.case
    return cases


def _place(
    cases: dict[int, Case], found: list[Person], house: Site, surge_room: int, user: dict[str, User]
) -> None:
    """The safe house's free beds and the surge places, to the women placed there, through the
    coordinator's hand placement, the provider's acceptance and their arrival."""
    taken = Placement.objects.holding_a_bed().values_list("bed_id", flat=True)
    house_beds = list(
        Bed.objects.filter(room__site=house, operation_id=None).exclude(pk__in=taken).order_by("pk")
    )
    surge_beds = list(Bed.objects.filter(room_id=surge_room).order_by("pk"))
    today = timezone.localdate()
    for index, case in cases.items():
        outcome = found[index].outcome
        if outcome not in (Outcome.PLACED_IN_HOUSE, Outcome.PLACED_IN_SURGE):
            continue
        beds = house_beds if outcome == Outcome.PLACED_IN_HOUSE else surge_beds
        request = PlacementRequest.objects.get(case=case, status=PlacementRequestStatus.OPEN)
        placement = accommodation.placement_make(
            by=user["coordinator"], request=request, bed=beds.pop(0)
        )
        placement = accommodation.placement_respond(
            by=user["safehouse"], placement=placement, accept=True
        )
        accommodation.placement_arrive(by=user["safehouse"], placement=placement, on=today)


def _decide(cases: dict[int, Case], found: list[Person], user: dict[str, User]) -> None:
    """Reasonable grounds decisions for the women placed (all positive), one negative for a
    woman still waiting (approved by the senior decision maker), and the two who went missing
    before a decision: reported missing, and their decision suspended."""
    today = timezone.localdate()
    for index, case in cases.items():
        outcome = found[index].outcome
        case.refresh_from_db()
        if outcome in (Outcome.PLACED_IN_HOUSE, Outcome.PLACED_IN_SURGE):
            decisions.decision_record_reasonable_grounds(
                by=user["decisions"],
                case=case,
                outcome="positive",
                reasons="Found in a brothel raided in Operation Harbour Lights, with the "
                "indicators the responder observed (fictional demo decision).",
                expected_version=case.version,
            )
        elif outcome == Outcome.NEGATIVE:
            decision = decisions.decision_record_reasonable_grounds(
                by=user["decisions"],
                case=case,
                outcome="negative",
                negative_reason="insufficient_information",
                reasons="The referral gives no account of what was done to her and she did not "
                "wish to say more (fictional demo decision).",
                expected_version=case.version,
            )
            decisions.decision_approve(by=user["senior"], decision=decision, approve=True)
        elif outcome == Outcome.MISSING:
            care.missing_report(
                by=user["coordinator"],
                case=case,
                went_missing_on=today,
                last_seen="Left the reception centre before her interview (fictional).",
            )
            case.refresh_from_db()
            decisions.decision_record_reasonable_grounds(
                by=user["decisions"],
                case=case,
                outcome="suspended",
                reasons="Missing before the decision could be made (fictional demo decision).",
                expected_version=case.version,
            )


def _plan_a_removal(records: list[ReceptionRecord], found: list[Person]) -> None:
    """The immigration enforcement officer checks the reference of a woman taken in whose
    referral is still a draft, and records her removal planned in a week: she is protected from
    the moment she was taken in (ADR 0043), so the responders are alerted at once."""
    officer = User.objects.filter(email="enforcement@demo.opennrm.test").first()
    enforcement = Organisation.objects.filter(name="Westport Immigration Enforcement").first()
    drafts = [
        record
        for record, person in zip(records, found, strict=True)
        if person.outcome == Outcome.DRAFT and person.sex == "female"
    ]
    if officer is None or enforcement is None or not drafts or PlannedRemoval.objects.exists():
        return
    planned_removal_record(
        by=officer,
        organisation=enforcement,
        reference=drafts[0].reference,
        planned_on=timezone.localdate() + timedelta(days=7),
    )


def _places_for_the_next_operation(
    police: Organisation, provider: Organisation, house: Site, manager: User
) -> None:
    """For Operation Quiet Tide, the provider adds 10 surge places again and holds two of the
    safe house's free beds, until the day after it ends: still far fewer places than the women
    it expects, which its forecast shows. Confidential and not started, it is in nobody's
    capacity figures yet."""
    upcoming = Operation.objects.filter(name=operations_demo.UPCOMING, lead_organisation=police)
    operation = upcoming.first()
    if operation is None:
        return
    surge.surge_add(
        by=manager,
        operation=operation,
        provider=provider,
        site=house,
        places=SURGE_PLACES,
        starts_on=operation.starts_on,
        ends_on=operation.ends_on + timedelta(days=14),
        funding_note="A grant from the regional anti-trafficking fund (fictional).",
    )
    surge.beds_hold(
        by=manager,
        operation=operation,
        provider=provider,
        site=house,
        count=HELD,
        expires_at=timezone.make_aware(
            datetime.combine(operation.ends_on + timedelta(days=1), time(12, 0))
        ),
    )
