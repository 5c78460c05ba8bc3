"""Fictional screenings for the demo accounts, so the screening pages have something to show.

Call `seed()` from the `demo_data` command after `accounts.demo.seed()`. Safe to run again: a
demo account that already has screenings gets no more.
"""

from __future__ import annotations

from django.db import transaction

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User

from . import selectors, services

# (demo account, list, codes observed). Each is an invented situation, not a real person's.
DEMO_SCREENINGS: list[tuple[str, str, list[str]]] = [
    # A car-wash worker: lied to about the job, long hours, pay withheld, passport kept.
    (
        "responder@demo.opennrm.test",
        "adult_labour",
        ["AL-DR-01", "AL-DR-03", "AL-EX-01", "AL-EX-02", "AL-CD-02", "AL-CD-03", "AL-VD-01"],
    ),
    # Signs of sexual exploitation, but nothing yet about how the person was recruited.
    (
        "responder@demo.opennrm.test",
        "adult_sexual",
        ["AS-EX-01", "AS-EX-05", "AS-CD-04", "AS-CD-09"],
    ),
    # A teenager carrying drugs between towns: for a child, no means need to be shown.
    (
        "safeguarding@demo.opennrm.test",
        "child_labour",
        ["CL-VR-02", "CL-VR-04", "CL-VR-05", "CL-DR-07", "CL-EX-03", "CL-EX-08"],
    ),
    # An outreach worker's first conversation: a few weak and medium signs only.
    ("outreach@demo.opennrm.test", "adult_labour", ["AL-VR-04", "AL-VR-07", "AL-EX-03"]),
]


@transaction.atomic
def seed() -> int:
    """Record the demo screenings through the service; returns how many were recorded."""
    users = {u.email: u for u in User.objects.filter(is_demo_account=True)}
    # Decided before recording anything, so an account with two demo screenings gets both.
    done = {
        email
        for email, user in users.items()
        if selectors.screenings_visible_to(Actor.of_session(user)).filter(created_by=user).exists()
    }
    recorded = 0
    for email, list_key, codes in DEMO_SCREENINGS:
        user = users.get(email)
        organisation = (
            selectors.screening_organisations_of(Actor.of_session(user)).first() if user else None
        )
        if user is None or organisation is None or email in done:
            continue
        services.screening_record(
            by=user,
            organisation=organisation,
            list_key=list_key,
            is_child=list_key.startswith("child_"),
            observed_codes=codes,
        )
        recorded += 1
    return recorded
