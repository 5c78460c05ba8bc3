from django.urls import path

from . import views

app_name = "screening"

urlpatterns = [
    path("", views.start, name="start"),
    path("checklist/", views.checklist, name="checklist"),
    path("<int:screening_id>/", views.detail, name="detail"),
]
