"""The capacity figures through the API (`GET /api/v1/support/capacity`): the capacity
dashboard's figures now, among the support operations (same tag and URL), for coordinators,
safe-house managers and analysts. Figures only: no person, site or address."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from opennrm.accommodation.api import BedCountsOut
from opennrm.api.schemas import AUTH_ERRORS, ErrorsOut

from . import capacity

router = Router(tags=["Support and accommodation"])


class RegionCountsOut(BedCountsOut):
    region: str
    region_label: str


class ProviderCountsOut(BedCountsOut):
    provider: str


class CapacityOut(Schema):
    total: BedCountsOut
    by_region: list[RegionCountsOut] = Field(description="Regions with beds, north to south")
    by_provider: list[ProviderCountsOut] = Field(description="By provider name")


def _counts(counts: capacity.BedCounts) -> dict[str, int]:
    return {
        "beds": counts.beds,
        "free": counts.free,
        "reserved": counts.reserved,
        "occupied": counts.occupied,
        "out_of_service": counts.out_of_service,
    }


@router.get(
    "/support/capacity",
    url_name="support_capacity",
    operation_id="support_capacity",
    summary="Beds by state, by region and by provider",
    response={200: CapacityOut, **AUTH_ERRORS, 404: ErrorsOut},
)
def capacity_now(request: HttpRequest) -> CapacityOut:
    """The capacity dashboard's figures now (`statistics.capacity.beds_now`): every bed in an open
    site, counted as free, reserved, occupied or out of service, nationally, by region and by
    provider. Figures only: no person, site or address."""
    now = capacity.beds_now()
    return CapacityOut(
        total=BedCountsOut(**_counts(now.total)),
        by_region=[
            RegionCountsOut(
                region=region, region_label=capacity.region_label(region), **_counts(counts)
            )
            for region, counts in now.by_region
        ],
        by_provider=[
            ProviderCountsOut(provider=provider, **_counts(counts))
            for provider, counts in now.by_provider
        ],
    )
