"""The children's pathway: the local authority's caseload, its tasks and age assessments."""

from django.urls import path

from . import views

app_name = "safeguarding"

urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("tasks/<int:task_id>/", views.task, name="task"),
    path("<str:reference>/age-assessment/", views.age_assessment, name="age_assessment"),
    path("<str:reference>/age-disputed/", views.age_dispute, name="age_dispute"),
]
