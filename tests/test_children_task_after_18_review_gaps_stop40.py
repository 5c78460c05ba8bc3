"""Found in review of stop 40's change: who opens a children's services task "instead"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case, Person
from opennrm.safeguarding import coming_of_age
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.coming_of_age import years_later
from opennrm.safety import services as safety

from . import case_factories, factories

EXPLOITERS = "Two brothers who run the car wash on Mill Lane"


@pytest.fixture
def grace(db: None) -> User:
    """Safeguarding lead of the child guardian service for Farshire, whose council is not in
    OpenNRM."""
    guardians = factories.organisation(
        "Farshire Guardians", OrganisationKind.CHILD_GUARDIAN_SERVICE, area="Farshire"
    )
    return factories.user("grace@example.org", organisation=guardians, role=Role.SAFEGUARDING_LEAD)


def test_the_guardian_service_cannot_open_the_task_of_a_person_who_is_now_an_adult(
    alice: User, northmoor_police: Organisation, authority: Organisation, grace: User
) -> None:
    """Who is hurt: a young person referred as a child in Farshire (where only the guardian
    service uses OpenNRM), now 18. From their birthday their case is an adult's: the guardian
    service's lead, Grace, is told "its page no longer opens for you", and it does not.

    What happens now: the accommodation task raised for them as a child is still open, and
    `safeguarding.selectors.task_get` falls back to `records_instead` for any open task, which
    checks only that no council of the area is in OpenNRM and that Grace leads the area's
    guardian service; it never asks whether the case is still a child's (the decision maker's
    branch is bounded by the case's competent authority; the guardian's by nothing but the
    area). So Grace opens the task page of an adult and reads their safety profile, down to
    who exploited them, and may record on it, with the read audited as if it were allowed.

    What should happen: the guardian-service fallback applies only while the case treats the
    person as a child (`task.case.is_child`), as every other safeguarding-lead read does
    (`children_of`); the task page is 404 to Grace once the person is an adult."""
    today = timezone.localdate()
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        area="Farshire",
        date_of_birth=years_later(today, -18),  # 18 today
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=child.person_id).update(age_at_referral=17, age_is_estimated=False)
    safety.safety_profile_save(
        by=alice,
        case=child,
        expected_version=None,
        risk_level="high",
        risk_reasons="Her exploiters are looking for her",
        exploiters=EXPLOITERS,
    )
    task, _ = safeguarding.children_accommodation_task_open(
        case=child, needs=["A bed tonight"], due_on=today, by=alice
    )
    client = factories.signed_in_client(grace)
    url = reverse("safeguarding:task", args=[task.pk])
    assert client.get(url).status_code == 200  # a child's: hers to record for the council

    assert coming_of_age.run(today).turned_18 == 1
    assert Case.objects.get(pk=child.pk).age_group == AgeGroup.ADULT
    assert client.get(reverse("cases:detail", args=[child.reference])).status_code == 404

    page = client.get(url)
    assert page.status_code == 404, (
        "the guardian service opens the task of an adult whose case it may no longer open"
        + (", with who exploited them" if EXPLOITERS in page.content.decode() else "")
    )
