"""The casework pages that are not a case's: the signed-in user's tasks. A case's notes and
tasks are case routes, under `cases:` (pages/case_urls.py)."""

from django.urls import path

from . import views

app_name = "casework"

urlpatterns = [
    path("", views.my_tasks, name="my_tasks"),
]
