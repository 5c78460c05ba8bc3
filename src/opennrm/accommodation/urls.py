"""The accommodation pages, served under /support/ in the `support` URL namespace with the care
and statistics pages (`opennrm.urls`; ADR 0019)."""

from django.urls import path

from . import hsds, views

urlpatterns = [
    # The coordinator.
    path("requests/", views.requests, name="requests"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:request_id>/", views.request_detail, name="request"),
    path("requests/<int:request_id>/needs/", views.request_edit, name="request_edit"),
    path("requests/<int:request_id>/place/", views.request_place, name="request_place"),
    path("requests/<int:request_id>/close/", views.request_close, name="request_close"),
    path("proposals/", views.proposals, name="proposals"),
    path("proposals/<int:placement_id>/", views.proposal_decide, name="proposal_decide"),
    path("address-access/", views.address_access, name="address_access"),
    # Placements: coordinators and the provider's staff.
    path("placements/", views.placements, name="placements"),
    path("placements/<int:placement_id>/", views.placement, name="placement"),
    path(
        "placements/<int:placement_id>/respond/",
        views.placement_respond,
        name="placement_respond",
    ),
    path(
        "placements/<int:placement_id>/arrived/",
        views.placement_arrived,
        name="placement_arrived",
    ),
    path("placements/<int:placement_id>/end/", views.placement_end, name="placement_end"),
    path("placements/<int:placement_id>/cancel/", views.placement_cancel, name="placement_cancel"),
    # Sites and beds.
    path("sites/", views.sites, name="sites"),
    path("sites/new/", views.site_new, name="site_new"),
    path("sites/<int:site_id>/", views.site, name="site"),
    path("sites/<int:site_id>/change/", views.site_edit, name="site_edit"),
    path("sites/<int:site_id>/rooms/new/", views.room_new, name="room_new"),
    path("beds/<int:bed_id>/service/", views.bed_service, name="bed_service"),
    path("services/new/", views.service_new, name="service_new"),
    path("services/<int:service_id>/", views.service_edit, name="service_edit"),
    # Everyone signed in.
    path("directory/", views.directory, name="directory"),
    path("directory/hsds.json", hsds.download, name="directory_hsds"),
]
