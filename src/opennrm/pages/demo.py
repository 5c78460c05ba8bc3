"""Demo history across the apps: four months of fictional stays in the demo beds, and requests
no bed could meet, for people referred and decided as people are. It spans referrals (the
synthetic people), decisions (their decisions, dated in the past) and accommodation (their
requests, placements and bed events), so it is composed here, above those apps, and runs after
their own demo data (`demo_data`'s steps)."""

from __future__ import annotations

from typing import Any

from opennrm.accommodation.services import request_defaults

HISTORY_NOTE = "Demo history"
# Past stays, so the capacity dashboard's history has something to show: (days ago the person
# arrived, days they stayed; None: still there).
STAYS: list[tuple[int, int | None]] = [
    (118, 46),
    (112, 30),
    (104, 88),
    (97, 21),
    (90, 63),
    (83, 14),
    (76, 52),
    (69, None),
    (61, 33),
    (54, 9),
    (47, None),
    (40, 18),
    (30, 12),
    (21, None),
]
# Requests no bed could meet: (days ago, matching's constraint, its reason in words).
UNMET = [
    (38, "dependants", "No free bed takes 3 children (fictional demo history)"),
    (24, "language", "No staff speak Tigrinya, and no interpreter (fictional demo history)"),
    (9, "taken", "The suitable beds went to people more urgent (fictional demo history)"),
]


def _decided(case: Any, arrived: Any, ended: Any, *, negative: bool = False) -> None:
    """The person of a past stay was referred the day before they arrived, and decided as
    people are: a positive reasonable grounds decision a few days later; a positive conclusive
    one before a long stay ended; so the demo has cases at each stage, several past their
    recovery period and ready for a conclusive decision, and none overdue by years."""
    from datetime import timedelta

    from django.utils import timezone

    from opennrm.decisions.demo import decided_in_the_past

    referred = arrived - timedelta(days=1)
    rg_on = timezone.localdate(referred + timedelta(days=3))
    cg = None
    if ended is not None and (ended - arrived).days >= 45:
        cg = ("recognised_trafficking", timezone.localdate(ended - timedelta(days=2)))
    decided_in_the_past(
        case,
        referred=referred,
        reasonable_grounds=("negative" if negative else "positive", rg_on),
        conclusive_grounds=cg,
    )


def seed() -> None:
    """Four months of fictional stays and turned-away requests in the demo beds.

    History has to be written as it would have been, in the past; the services stamp every
    change with the present, so these rows are written directly (demo mode only), each marked.
    The people are synthetic (`referrals.synthetic_volume`) adults, placed only in settings their
    sex allows.
    """
    from datetime import timedelta

    from django.utils import timezone

    from opennrm.accommodation.models import (
        Bed,
        BedEvent,
        Placement,
        PlacementRequest,
        PlacementRequestStatus,
        PlacementStatus,
        UnmetNeed,
    )
    from opennrm.cases.models import Case
    from opennrm.referrals import synthetic_volume

    if BedEvent.objects.filter(note=HISTORY_NOTE).exists():
        return
    # The beds were there before the history: date their first events (and them) back.
    start = timezone.now() - timedelta(days=max(days for days, _ in STAYS) + 14)
    BedEvent.objects.filter(note="Added").update(at=start)
    Bed.objects.update(created_at=start)
    # Adults only: a child, or someone whose age is disputed, never stays in an adult's bed, nor
    # asks for one (found in review: the national mix put two children in the houses' history).
    # Two women for each man, taken in turn.
    wanted_people = len(STAYS) + len(UNMET)
    men = wanted_people // 3
    made = []
    for sex, count, seed in (("female", wanted_people - men, 2007), ("male", men, 2008)):
        before = set(Case.objects.values_list("pk", flat=True))
        synthetic_volume.generate(count, seed=seed, person=(sex, "adult"))
        made.append(
            list(Case.objects.exclude(pk__in=before).select_related("person").order_by("pk"))
        )
    women, men_made = made
    people = [
        (men_made if n % 3 == 2 and men_made else women or men_made).pop(0)
        for n in range(wanted_people)
    ]
    now = timezone.now()
    setting_of = {"female": "women_only", "male": "men_only"}
    free_from: dict[int, object] = {}
    beds = list(Bed.objects.select_related("room__site").order_by("pk"))
    for (arrived_ago, stayed), case in zip(STAYS, people, strict=False):
        arrived = now - timedelta(days=arrived_ago)
        ended = None if stayed is None else arrived + timedelta(days=stayed)
        _decided(case, arrived, ended)
        wanted = setting_of.get(case.person.sex, "mixed")
        bed = next(
            (
                b
                for b in beds
                if b.room.site.setting == wanted
                and free_from.get(b.pk, arrived - timedelta(days=1)) < arrived  # type: ignore[operator]
            ),
            None,
        )
        if bed is None:
            continue
        free_from[bed.pk] = ended or now + timedelta(days=3650)
        request = PlacementRequest.objects.create(
            case=case,
            needs=["bed_tonight"],
            urgency="emergency",
            needed_from=timezone.localdate(arrived),
            status=PlacementRequestStatus.PLACED,
            closed_at=arrived,
            **request_defaults(case),
        )
        PlacementRequest.objects.filter(pk=request.pk).update(
            created_at=arrived - timedelta(hours=20)
        )
        placement = Placement.objects.create(
            request=request,
            bed=bed,
            status=PlacementStatus.OCCUPIED if ended is None else PlacementStatus.ENDED,
            why=HISTORY_NOTE,
            proposed_at=arrived - timedelta(hours=18),
            reserved_at=arrived - timedelta(hours=18),
            responded_at=arrived - timedelta(hours=12),
            arrived_on=timezone.localdate(arrived),
            ended_on=None if ended is None else timezone.localdate(ended),
            exit_reason="" if ended is None else "moved_on",
        )
        events = [
            (arrived - timedelta(hours=18), "reserved"),
            (arrived, "occupied"),
            *([] if ended is None else [(ended, "available")]),
        ]
        BedEvent.objects.bulk_create(
            BedEvent(bed=bed, at=at, state=state, placement=placement, note=HISTORY_NOTE)
            for at, state in events
        )
    for (days_ago, constraint, reason), case in zip(UNMET, people[len(STAYS) :], strict=False):
        raised = now - timedelta(days=days_ago)
        _decided(case, raised, None, negative=days_ago == UNMET[0][0])
        request = PlacementRequest.objects.create(
            case=case,
            needs=["bed_tonight"],
            urgency="urgent",
            needed_from=timezone.localdate(raised),
            status=PlacementRequestStatus.UNMET,
            closed_at=raised + timedelta(days=2),
            **request_defaults(case),
        )
        PlacementRequest.objects.filter(pk=request.pk).update(created_at=raised)
        UnmetNeed.objects.create(
            request=request,
            on=timezone.localdate(raised),
            constraint=constraint,
            reason=reason,
            area=case.area,
        )
