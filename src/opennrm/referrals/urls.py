from django.urls import path

from . import views

app_name = "referrals"

urlpatterns = [
    path("", views.my_referrals, name="my_referrals"),
    path("new/", views.draft_start, name="draft_start"),
    path("additions/", views.additions_unseen, name="additions_unseen"),
    # A duty to notify report and its intelligence, for the police it was sent to.
    path("reports/<str:reference>/", views.report, name="report"),
    path(
        "from-screening/<int:screening_id>/",
        views.draft_from_screening,
        name="draft_from_screening",
    ),
    path("<uuid:public_id>/", views.task_list, name="task_list"),
    path("<uuid:public_id>/delete/", views.draft_delete, name="draft_delete"),
    path("<uuid:public_id>/evidence/", views.evidence, name="evidence"),
    path(
        "<uuid:public_id>/evidence/<int:evidence_id>/",
        views.evidence_download,
        name="evidence_download",
    ),
    path(
        "<uuid:public_id>/evidence/<int:evidence_id>/remove/",
        views.evidence_remove,
        name="evidence_remove",
    ),
    path("<uuid:public_id>/check/", views.check_answers, name="check_answers"),
    path("<uuid:public_id>/submitted/", views.confirmation, name="confirmation"),
    path("<uuid:public_id>/<slug:slug>/", views.step, name="step"),
]
