from django.urls import path

from . import surge_views, views

app_name = "operations"

urlpatterns = [
    path("", views.operation_list, name="list"),
    path("new/", views.operation_plan, name="plan"),
    path("<int:operation_id>/", views.operation_detail, name="detail"),
    path("<int:operation_id>/edit/", views.operation_edit, name="edit"),
    path("<int:operation_id>/partners/new/", views.partner_invite, name="partner_invite"),
    path("<int:operation_id>/cancel/", views.operation_cancel, name="cancel"),
    path("<int:operation_id>/reception/", views.reception, name="reception"),
    path("<int:operation_id>/board/", views.board, name="board"),
    path(
        "<int:operation_id>/reception/<int:sequence>/missing/",
        views.reception_missing,
        name="reception_missing",
    ),
    path(
        "<int:operation_id>/reception/<int:sequence>/hand-over/",
        views.reception_hand_over,
        name="reception_hand_over",
    ),
    path("<int:operation_id>/report/", views.report, name="report"),
    path("<int:operation_id>/surge/new/", surge_views.surge_add, name="surge_add"),
    path("<int:operation_id>/surge/<int:surge_id>/end/", surge_views.surge_end, name="surge_end"),
    path("<int:operation_id>/holds/new/", surge_views.beds_hold, name="beds_hold"),
    path(
        "<int:operation_id>/holds/<int:hold_id>/release/",
        surge_views.hold_release,
        name="hold_release",
    ),
]
