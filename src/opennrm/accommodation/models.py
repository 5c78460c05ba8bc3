"""Accommodation: the directory of providers' services and sites, their rooms and beds, address
permissions, placement requests and placements, unmet need.

These models began in the `support` app: their tables keep its names (`db_table`), and stored
data still names them `support.<model>` (`stored_app_label`; ADR 0019).

A provider is an `Organisation` of kind support provider. A safe house's address and exact
location are the most dangerous facts in the system after a person's name: they are encrypted
at rest and shown only to the safe-house managers assigned to the site and to coordinators holding
an approved, time-limited grant for it (`AddressGrant`; `accommodation.selectors.may_see_address`).

A bed's state is never typed in: it is derived from its placements (reserved, occupied) and its
out-of-service flag, and each change is kept in `BedEvent`. A partial unique constraint on
`Placement` makes a second live placement of one bed impossible in the database itself.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from opennrm.lib.fields import (
    EncryptedJSONField,
    EncryptedTextField,
    RowUUIDField,
)


class Region(models.TextChoices):
    """The UK's statistical regions and nations, for "where" in capacity and matching."""

    NORTH_EAST = "north_east", "North East"
    NORTH_WEST = "north_west", "North West"
    YORKSHIRE = "yorkshire", "Yorkshire and the Humber"
    EAST_MIDLANDS = "east_midlands", "East Midlands"
    WEST_MIDLANDS = "west_midlands", "West Midlands"
    EAST = "east", "East of England"
    LONDON = "london", "London"
    SOUTH_EAST = "south_east", "South East"
    SOUTH_WEST = "south_west", "South West"
    WALES = "wales", "Wales"
    SCOTLAND = "scotland", "Scotland"
    NORTHERN_IRELAND = "northern_ireland", "Northern Ireland"


class Setting(models.TextChoices):
    """The same values as `accommodation.matching.Setting`."""

    WOMEN_ONLY = "women_only", "Women only"
    MEN_ONLY = "men_only", "Men only"
    MIXED = "mixed", "Mixed"


class SiteAges(models.TextChoices):
    """Who a site is for. A child, or someone whose age is disputed (treated as a child until
    assessed), is only ever placed in a setting for children, and an adult never is
    (`accommodation.matching.Constraint.AGE`)."""

    ADULTS = "adults", "Adults (18 and over)"
    CHILDREN = "children", "Children (under 18, or whose age is disputed)"


class Specialism(models.TextChoices):
    SEXUAL_EXPLOITATION = "sexual_exploitation", "Survivors of sexual exploitation"
    LABOUR_EXPLOITATION = "labour_exploitation", "Survivors of labour exploitation"
    MENTAL_HEALTH = "mental_health", "Mental health support"
    SUBSTANCE_USE = "substance_use", "Drug and alcohol support"
    YOUNG_ADULTS = "young_adults", "Young adults (18 to 25)"
    LGBTQ = "lgbtq", "LGBTQ+ survivors"
    PREGNANCY = "pregnancy", "Pregnancy and new mothers"


class SiteKind(models.TextChoices):
    SAFE_HOUSE = "safe_house", "Safe house"
    DISPERSED = "dispersed", "Dispersed accommodation (flats)"
    OUTREACH = "outreach", "Outreach office (no beds)"


class ImmediateNeed(models.TextChoices):
    BED_TONIGHT = "bed_tonight", "A safe place to stay tonight"
    MEDICAL = "medical", "Medical attention"
    INTERPRETER = "interpreter", "An interpreter"
    SAFETY_RISK = "safety_risk", "Protection from an immediate risk to their safety"


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", "Emergency: today"
    URGENT = "urgent", "Urgent: within 3 days"
    ROUTINE = "routine", "Routine"


# --- The directory ----------------------------------------------------------------------------


class Service(models.Model):
    """A service a provider offers (HSDS `service`), with who it is for."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="support_services"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    # Eligibility: empty means anyone. Sexes use cases.choices.Sex; exploitation types
    # cases.choices.ExploitationType; languages ISO 639-1.
    eligible_sexes = models.JSONField(default=list, blank=True)
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    exploitation_types = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    accessibility = models.CharField(max_length=300, blank=True)

    # Stored data still names it `support.service` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_service"
        ordering = ["provider__name", "name"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A place where a provider supports people: a safe house, a set of dispersed flats, an
    office. `name` is a code name that says nothing about where it is; the address, postcode
    and location are encrypted and shown only to those allowed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="support_sites"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=SiteKind.choices)
    region = models.CharField(max_length=30, choices=Region.choices)
    # The local authority area, for matching's "not in this area" and the capacity figures.
    area = models.CharField(max_length=120)
    setting = models.CharField(max_length=20, choices=Setting.choices)
    ages = models.CharField(max_length=10, choices=SiteAges.choices, default=SiteAges.ADULTS)
    row_uuid = RowUUIDField()
    address = EncryptedTextField()
    postcode = EncryptedTextField(blank=True)
    # [latitude, longitude], for distances from places a person must keep away from.
    location = EncryptedJSONField(null=True, blank=True)
    staff_languages = models.JSONField(default=list, blank=True)
    specialisms = models.JSONField(default=list, blank=True)
    near_school = models.BooleanField(default=False)
    services = models.ManyToManyField(Service, related_name="sites", blank=True)
    is_active = models.BooleanField(default=True)
    # Raised by each change of the site's details: a "Change the site" page opened before
    # someone else's change is refused rather than writing back what it showed (a safe house's
    # old, compromised address; `services.site_update`).
    version = models.PositiveIntegerField(default=1)

    # Stored data still names it `support.site` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_site"
        ordering = ["provider__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "name"], name="site_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


# How long an approved grant to see a site's address lasts: long enough to arrange a move, short
# enough that nobody keeps a list of safe houses; an emergency one, approved by a competent
# authority's senior decision maker when the provider cannot be reached, lasts a day.
ADDRESS_GRANT_DAYS = 7
EMERGENCY_ADDRESS_GRANT_HOURS = 24


class AddressGrant(models.Model):
    """A support coordinator's time-limited permission to see one site's address.

    Asked for by the coordinator, with a reason; approved (or refused) by an administrator of
    the site's provider, or, for an emergency only, by a senior decision maker of a competent
    authority; never by the coordinator themselves, and a system administrator's role alone
    does not approve. It belongs to the coordinator's membership: it counts only while that
    membership is active, in the coordinator role, in an active organisation, and until
    `expires_at` or withdrawal (`accommodation.selectors.live_address_grants`). Rows are kept,
    so the history of who could see what stays."""

    membership = models.ForeignKey(
        "accounts.Membership", on_delete=models.PROTECT, related_name="address_grants"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="address_grants")
    row_uuid = RowUUIDField()
    # Why the coordinator needs it: may name a case, so encrypted like other free text.
    reason = EncryptedTextField()
    emergency = models.BooleanField(default=False)
    requested_at = models.DateTimeField()
    # None while waiting; True approved; False refused.
    approved = models.BooleanField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # Stored data still names it `support.addressgrant` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_addressgrant"
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(approved=True, expires_at__isnull=False, decided_at__isnull=False)
                | Q(approved=False, decided_at__isnull=False)
                | Q(approved=None, decided_at=None),
                name="address_grant_decided_with_expiry",
            )
        ]

    def __str__(self) -> str:
        return f"Address grant {self.pk} for site {self.site_id}"


class SiteAssignment(models.Model):
    """A safe-house manager assigned to one of their provider's sites: they see (and run) only
    the sites they are assigned to. Made by an administrator of the provider; a manager who
    adds a site is assigned to it. Removing one deletes the row (the audit trail keeps it)."""

    membership = models.ForeignKey(
        "accounts.Membership", on_delete=models.PROTECT, related_name="site_assignments"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField()

    # Stored data still names it `support.siteassignment` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_siteassignment"
        constraints = [
            models.UniqueConstraint(fields=["membership", "site"], name="one_assignment_per_site")
        ]

    def __str__(self) -> str:
        return f"Membership {self.membership_id} at site {self.site_id}"


class Room(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=50)
    # How many children can share a placement here with their parent (0: none).
    takes_dependants = models.PositiveSmallIntegerField(default=0)
    wheelchair_accessible = models.BooleanField(default=False)

    # Stored data still names it `support.room` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_room"
        ordering = ["site", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="room_name_unique")]

    def __str__(self) -> str:
        return f"{self.site.name}, {self.name}"


class BedState(models.TextChoices):
    AVAILABLE = "available", "Available"
    RESERVED = "reserved", "Reserved"
    OCCUPIED = "occupied", "Occupied"
    OUT_OF_SERVICE = "out_of_service", "Out of service"


class Bed(models.Model):
    """A bed (or a family room taken by one placement). Whether it is free comes from its live
    placement, if any, and `out_of_service_since`; nothing else."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="beds")
    label = models.CharField(max_length=30)
    out_of_service_since = models.DateTimeField(null=True, blank=True)
    out_of_service_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A surge place: added for one enforcement operation (an `operations.SurgePlaces` row made
    # it), only its people are placed in it, and it is free only from `surge_from` to
    # `surge_until`. After that it leaves matching and the capacity figures, but a placement
    # still holding it keeps it until the placement ends (ADR 0044). A plain number, not a
    # foreign key: `operations` builds on `accommodation`, never the other way round.
    operation_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    surge_from = models.DateField(null=True, blank=True)
    surge_until = models.DateField(null=True, blank=True)

    # Stored data still names it `support.bed` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_bed"
        ordering = ["room", "label"]
        constraints = [models.UniqueConstraint(fields=["room", "label"], name="bed_label_unique")]

    def __str__(self) -> str:
        return f"{self.room}, bed {self.label}"


class BedEvent(models.Model):
    """The history of a bed: every change of its state, with what caused it."""

    bed = models.ForeignKey(Bed, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    state = models.CharField(max_length=20, choices=BedState.choices)
    placement = models.ForeignKey(
        "Placement", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    # Stored data still names it `support.bedevent` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_bedevent"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["bed", "at"], name="bed_event_idx")]

    def __str__(self) -> str:
        return f"{self.bed_id} {self.state} at {self.at}"


# --- Placement requests and placements ---------------------------------------------------------


class PlacementRequestStatus(models.TextChoices):
    OPEN = "open", "Waiting for a place"
    PLACED = "placed", "Placed"
    UNMET = "unmet", "Closed: no suitable place"
    WITHDRAWN = "withdrawn", "Withdrawn"


class PlacementRequest(models.Model):
    """Someone who needs a place: raised by a referral's immediate needs or by a coordinator.

    The hard constraints (setting, children, wheelchair, language unless an interpreter will
    be used, required specialisms) and safety constraints (places to keep away from, areas to
    avoid) are never broken by matching; the preferences only steer it. `keep_away` holds
    places linked to the exploitation, so it is encrypted.
    """

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="placement_requests"
    )
    needs = models.JSONField(default=list)
    urgency = models.CharField(max_length=20, choices=Urgency.choices)
    needed_from = models.DateField()
    status = models.CharField(
        max_length=20, choices=PlacementRequestStatus.choices, default=PlacementRequestStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Hard constraints.
    accepted_settings = models.JSONField(default=list)
    dependants = models.PositiveSmallIntegerField(default=0)
    needs_wheelchair = models.BooleanField(default=False)
    languages = models.JSONField(default=list, blank=True)
    interpreter_needed = models.BooleanField(default=False)
    required_specialisms = models.JSONField(default=list, blank=True)
    # Safety constraints: [{"label", "place", "lat", "lon", "km"}], and region or area names.
    row_uuid = RowUUIDField()
    keep_away = EncryptedJSONField(default=list, blank=True)
    excluded_areas = EncryptedJSONField(default=list, blank=True)
    # Preferences.
    preferred_regions = models.JSONField(default=list, blank=True)
    near_school = models.BooleanField(default=False)
    wanted_specialisms = models.JSONField(default=list, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # What the first responder wrote under immediate needs ("women only; keep her away from
    # ...") is free text no optimiser reads: while a coordinator has not read it and turned it
    # into constraints, the request is not matched nor placed (`accommodation.services`).
    details_to_review = models.BooleanField(default=False)
    details_reviewed_at = models.DateTimeField(null=True, blank=True)
    details_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The enforcement operation the person was found in, if any: they may also be placed in
    # the beds kept for it (surge places, beds held; ADR 0044). A plain number for the same
    # reason as `Bed.operation_id`.
    operation_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)

    # Stored data still names it `support.placementrequest` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_placementrequest"
        ordering = ["needed_from", "created_at"]
        indexes = [models.Index(fields=["status", "needed_from"], name="placement_request_idx")]

    def __str__(self) -> str:
        return f"Placement request {self.pk} for case {self.case_id}"


class PlacementStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed by matching: waiting for the coordinator"
    RESERVED = "reserved", "Offered: waiting for the provider"
    ACCEPTED = "accepted", "Accepted: waiting for the person to arrive"
    OCCUPIED = "occupied", "Living there"
    DECLINED = "declined", "Declined by the provider"
    CANCELLED = "cancelled", "Cancelled"
    ENDED = "ended", "Ended"


# The placements that hold a bed: a second one of these for the same bed cannot be written.
HOLDS_BED = (PlacementStatus.RESERVED, PlacementStatus.ACCEPTED, PlacementStatus.OCCUPIED)
# The placements that answer a request: at most one at a time.
LIVE = (PlacementStatus.PROPOSED, *HOLDS_BED)


class ExitReason(models.TextChoices):
    MOVED_ON = "moved_on", "Moved on to other accommodation"
    MOVE_ON_ENDED = "move_on_ended", "Move-on support ended"
    RETURNED_HOME = "returned_home", "Returned to their home country"
    TRANSFERRED = "transferred", "Transferred to another place"
    LEFT = "left", "Left without notice"
    OTHER = "other", "Another reason"


class DeclineReason(models.TextChoices):
    NEEDS_NOT_MET = "needs_not_met", "We cannot meet the person's needs"
    SAFETY = "safety", "A risk to the person or to other residents"
    BED_NOT_READY = "bed_not_ready", "The bed is not ready"
    OTHER = "other", "Another reason"


class PlacementQuerySet(models.QuerySet["Placement"]):
    def holding_a_bed(self) -> PlacementQuerySet:
        """Placements that hold their bed: offered, accepted or lived in (at most one a bed)."""
        return self.filter(status__in=[s.value for s in HOLDS_BED])

    def live(self) -> PlacementQuerySet:
        """Placements that answer their request now: proposed, or holding a bed (at most one a
        request)."""
        return self.filter(status__in=[s.value for s in LIVE])


class Placement(models.Model):
    request = models.ForeignKey(
        PlacementRequest, on_delete=models.PROTECT, related_name="placements"
    )
    bed = models.ForeignKey(Bed, on_delete=models.PROTECT, related_name="placements")
    status = models.CharField(max_length=20, choices=PlacementStatus.choices)
    # Why matching chose this bed (or "placed by hand"), shown to the coordinator.
    why = models.TextField(blank=True)
    proposed_at = models.DateTimeField()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reserved_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decline_reason = models.CharField(max_length=20, choices=DeclineReason.choices, blank=True)
    arrived_on = models.DateField(null=True, blank=True)
    # The planned end of a stay is the case's `move_on_ends`, stored when a conclusive decision
    # starts the policy profile's move-on period; it is not copied here.
    ended_on = models.DateField(null=True, blank=True)
    exit_reason = models.CharField(max_length=20, choices=ExitReason.choices, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = PlacementQuerySet.as_manager()

    # Stored data still names it `support.placement` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_placement"
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bed"],
                condition=Q(status__in=[s.value for s in HOLDS_BED]),
                name="one_live_placement_per_bed",
            ),
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status__in=[s.value for s in LIVE]),
                name="one_live_placement_per_request",
            ),
        ]
        indexes = [models.Index(fields=["status", "bed"], name="placement_status_idx")]

    def __str__(self) -> str:
        return f"Placement {self.pk} ({self.status})"


class UnmetNeed(models.Model):
    """A request that no suitable bed could meet, and why: how many people were turned away,
    for what, and where. One row per request per day it was found unmet."""

    request = models.ForeignKey(
        PlacementRequest, on_delete=models.CASCADE, related_name="unmet_needs"
    )
    on = models.DateField()
    # A matching.Constraint value, or "taken" (suitable beds all went to others) or "no_beds".
    constraint = models.CharField(max_length=30)
    # Worded from the request's constraints, which may name the place of exploitation.
    row_uuid = RowUUIDField()
    reason = EncryptedTextField()
    region = models.CharField(max_length=30, blank=True)
    area = models.CharField(max_length=120, blank=True)

    # Stored data still names it `support.unmetneed` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_unmetneed"
        ordering = ["-on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "on"], name="unmet_need_once_a_day")
        ]

    def __str__(self) -> str:
        return f"Unmet need of request {self.request_id} on {self.on}"


class BedHold(models.Model):
    """A bed a provider holds in reserve for an enforcement operation until `expires_at`:
    while held, only the operation's people are offered it. It frees itself: a hold counts
    only before its expiry (`live`), so no job has to release it; `released_at` records an
    early release, or the moment an expired hold was cleared for a new one. At most one open
    hold a bed (`one_open_hold_per_bed`), and a bed a placement holds is never held
    (`accommodation.surge.bed_hold`, under the bed's row lock) (ADR 0044)."""

    bed = models.ForeignKey(Bed, on_delete=models.PROTECT, related_name="holds")
    operation_id = models.PositiveIntegerField(db_index=True)
    held_at = models.DateTimeField()
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The one-time key of the page the beds were held from, on each hold it made: the same page
    # sent twice holds them once (`operations.surge.beds_hold`, found in review: twice the beds
    # were kept from everyone else).
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["expires_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bed"], condition=Q(released_at=None), name="one_open_hold_per_bed"
            ),
            # One submission holds several beds, one row each, so the key is unique a bed: held
            # twice under one key, a bed was held twice for one page.
            models.UniqueConstraint(
                fields=["operation_id", "held_by", "bed", "submission_key"],
                condition=Q(submission_key__isnull=False),
                name="bed_hold_once_per_submission",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("held_at")), name="bed_hold_expires_later"
            ),
        ]

    def __str__(self) -> str:
        return f"Bed {self.bed_id} held for operation {self.operation_id}"
