"""The capacity pages, served under /support/ in the `support` URL namespace with the
accommodation and care pages (`opennrm.urls`; ADR 0019)."""

from django.urls import path

from . import views

urlpatterns = [
    # Capacity: figures only, for coordinators, safe-house managers and analysts.
    path("capacity/", views.capacity_now, name="capacity"),
    path("capacity/over-time/", views.capacity_over_time, name="capacity_over_time"),
    path("capacity/<slug:table>.csv", views.capacity_csv, name="capacity_csv"),
]
