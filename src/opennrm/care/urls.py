"""The care pages, served under /support/ in the `support` URL namespace with the accommodation
and statistics pages (`opennrm.urls`; ADR 0019)."""

from django.urls import path

from . import views

urlpatterns = [
    # A person's support plan and missing episodes: coordinators, and the provider's managers
    # while the person is placed with them.
    path("people/<str:reference>/plan/", views.plan, name="plan"),
    path(
        "people/<str:reference>/plan/measures/<str:measure>/",
        views.plan_measure,
        name="plan_measure",
    ),
    path("people/<str:reference>/plan/delivered/", views.plan_delivery, name="plan_delivery"),
    path("people/<str:reference>/missing/", views.report, name="missing_report"),
    path(
        "people/<str:reference>/reconsideration/",
        views.reconsideration_request,
        name="reconsideration_request",
    ),
    path(
        "people/<str:reference>/reconsideration/evidence/<int:evidence_id>/",
        views.reconsideration_evidence,
        name="reconsideration_evidence",
    ),
    path("missing/", views.episodes, name="missing_list"),
    path("missing/<int:episode_id>/", views.episode, name="missing_episode"),
]
