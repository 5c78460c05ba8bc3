from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("people/", views.find, name="find"),
    path("people/<int:person_id>/", views.person, name="person"),
    path("people/<int:person_id>/export/", views.export, name="export"),
    path("people/<int:person_id>/erase/", views.erase, name="erase"),
    path("retention/", views.retention, name="retention"),
    path("reads/", views.person_reads, name="person_reads"),
]
