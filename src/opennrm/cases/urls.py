"""The routes of the case's own pages. They are served with the case pages composed above the
case from other apps, under the one namespace `cases:`, by pages/case_urls.py."""

from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("<str:reference>/close/", views.close, name="close"),
]
