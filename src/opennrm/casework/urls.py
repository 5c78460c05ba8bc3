"""The casework pages that are not a case's: the signed-in user's tasks, and giving a task to
someone else (from a case's notes page). A case's notes and tasks are case routes, under
`cases:` (pages/case_urls.py)."""

from django.urls import path

from . import views

app_name = "casework"

urlpatterns = [
    path("", views.my_tasks, name="my_tasks"),
    path("<int:task_id>/owner/", views.task_reassign, name="task_reassign"),
]
