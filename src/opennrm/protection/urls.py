from __future__ import annotations

from django.urls import path

from . import views

app_name = "protection"

urlpatterns = [
    path("check/", views.check, name="check"),
    path("planned-removals/", views.planned_removal, name="planned_removal"),
]
