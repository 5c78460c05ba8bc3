"""Safeguards of accommodation: a bed is offered only where a person can stay (never a surge
place outside its surge, never at an outreach office), a region named as a place to keep away
from is kept away from, a house expecting the person hears that the risk to them rose, the
referrer hears when a place offered is declined, and a malformed id is a 404."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from opennrm.accommodation import services, surge
from opennrm.accommodation.models import Placement, PlacementStatus, Site
from opennrm.accommodation.selectors import excluded_key
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.safety import services as safety
from tests import factories
from tests import support_factories as s
from tests import support_plan_helpers as h


def _newest() -> int:
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- Bad input on the address-access page ---------------------------------------------------


@pytest.mark.parametrize("action", ["approve", "refuse", "revoke"])
def test_a_non_ascii_digit_as_a_grant_id_is_a_404_not_a_server_error(
    cora: User, maya: User, provider: Organisation, action: str
) -> None:
    """Only ASCII digits name a record: "²" is a digit to `str.isdigit()`, but no id, so the
    address-access page answers 404, not a server error."""
    site = s.site(maya, provider)
    admin = factories.user("admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN)
    services.address_grant_request(by=cora, site=site, reason="A journey", emergency=False)
    client = factories.signed_in_client(admin)
    client.raise_request_exception = False
    response = client.post("/support/address-access/", {"action": action, "grant": "²"})
    assert response.status_code == 404


# --- Beds that are no places to stay ----------------------------------------------------------


def test_a_surge_place_whose_surge_has_ended_cannot_be_offered_by_hand(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """After `surge_until` a surge place leaves matching, the free-bed lists and the capacity
    figures (ADR 44): the extra places no longer exist, and placing by hand (page or API, any
    bed id of a visible site) is refused too, even for the operation's own people."""
    site = s.site(maya, provider)
    room = surge.add_surge_beds(
        site,
        room_name="Extra places 1",
        places=1,
        operation_id=77,
        starts_on=s.day(-10),
        ends_on=s.day(-1),
        by=maya,
    )
    bed = room.beds.get()
    request = s.request(case, operation_id=77)
    with pytest.raises(ValidationError):
        services.placement_make(by=cora, request=request, bed=bed)
    assert not Placement.objects.filter(bed=bed).exists()


def test_a_bed_in_an_outreach_office_cannot_be_offered(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """An outreach office has no beds (`SiteKind.OUTREACH`, left out of `free_beds` and the
    capacity figures): no room can be added to one, and a bed at a site that became an office
    is never offered."""
    office = s.site(maya, provider, kind="outreach")
    with pytest.raises(ValidationError) as refused:
        s.beds(maya, office)
    assert "outreach office" in str(refused.value)
    site = s.site(maya, provider, name="Became an office")
    (bed,) = s.beds(maya, site)
    # Beds left from before a site could not become an office with beds in service.
    Site.objects.filter(pk=site.pk).update(kind="outreach")
    with pytest.raises(ValidationError):
        services.placement_make(by=cora, request=s.request(case), bed=bed)
    assert not Placement.objects.filter(bed=bed).exists()


# --- Safety: a place to keep away from named as a region --------------------------------------


@pytest.mark.parametrize("named", ["North West", "north-west", "NORTH WEST", "north_west"])
def test_a_region_the_profile_says_to_keep_away_from_is_kept_away_from(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case, named: str
) -> None:
    """The first responder records "North West" as a place she must keep away from. A site
    records its region by code (`north_west`); the region's name is read as its code, so no bed
    in the North West is offered to her."""
    safety.safety_profile_save(
        by=alice,
        case=case,
        expected_version=None,
        risk_level="high",
        risk_reasons="Her exploiters operate across the North West",
        keep_away=[named],
    )
    (bed,) = s.beds(maya, s.site(maya, provider, region="north_west", area="Bolton"))
    with pytest.raises(ValidationError):
        services.placement_make(by=cora, request=s.request(case), bed=bed)


# --- Safety: the house expecting the person hears the risk rose --------------------------------


@pytest.mark.parametrize("accepted", [True, False])
def test_a_risk_raised_reaches_the_house_that_has_accepted_the_person(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case, accepted: bool
) -> None:
    """The provider has accepted her and is expecting her (or has her place offered to it). The
    referrer raises the risk to very
    high ("the controller knows where she is going"): a risk level is no matching constraint,
    so the place stays, and the house about to take her in is told as the house she lived in
    would be, without the reasons in the message."""
    placement = h.offered(cora, maya, provider, case)
    if accepted:
        services.placement_respond(by=maya, placement=placement, accept=True)
    placement.refresh_from_db()
    assert placement.status == (PlacementStatus.ACCEPTED if accepted else PlacementStatus.RESERVED)
    before = _newest()
    safety.safety_profile_save(
        by=alice,
        case=case,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="The controller has learnt where she is being moved to",
    )
    told = set(
        Notification.objects.filter(pk__gt=before, case=case).values_list(
            "recipient__email", flat=True
        )
    )
    assert maya.email in told
    for notification in Notification.objects.filter(pk__gt=before, case=case):
        assert notification.kind == "placement.risk_changed"
        assert notification.url.endswith(f"/placements/{placement.pk}/")
        text = notification.subject + notification.body
        assert "very high" in text
        assert "where she is being moved" not in text
        assert placement.bed.room.site.name not in text
    assert case.events.filter(kind="support.house_told_of_risk").exists()


# --- A declined offer: the referrer, told it was offered, hears ---------------------------------


def test_the_referrer_hears_when_the_place_offered_is_declined(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """The referrer is told "A place has been offered ... You will hear when it is accepted",
    and is told when it is accepted or cancelled; told too when it is declined, naming the
    provider and region only, so that they do not keep believing a place is coming."""
    placement = h.offered(cora, maya, provider, case)
    assert Notification.objects.filter(recipient=alice, kind="placement.offered").exists()
    services.placement_respond(by=maya, placement=placement, accept=False, reason="safety")
    (told,) = Notification.objects.filter(recipient=alice, kind="placement.declined")
    site = placement.bed.room.site
    text = told.subject + told.body
    assert f"{provider.name} in North West" in text
    assert site.name not in text
    assert site.address not in text
    assert site.postcode not in text


def test_a_region_named_in_words_is_compared_by_its_code() -> None:
    """A region or nation named in words is its code to matching; any other place keeps its
    own name, trimmed and in lower case."""
    assert excluded_key("North West") == "north_west"
    assert excluded_key(" Yorkshire and the  Humber") == "yorkshire"
    assert excluded_key("East of England") == "east"
    assert excluded_key("Northern Ireland") == "northern_ireland"
    assert excluded_key("Wales") == "wales"
    assert excluded_key("Stoke-on-Trent") == "stoke on trent"
    assert excluded_key(" Testshire ") == "testshire"
