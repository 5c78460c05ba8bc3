from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("<str:reference>/", views.detail, name="detail"),
    path(
        "<str:reference>/reconsideration/",
        views.reconsideration_request,
        name="reconsideration_request",
    ),
    path("<str:reference>/close/", views.close, name="close"),
    path(
        "<str:reference>/evidence/<int:evidence_id>/",
        views.evidence_download,
        name="evidence_download",
    ),
]
