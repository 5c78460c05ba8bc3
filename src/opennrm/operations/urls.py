from django.urls import path

from . import views

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
]
