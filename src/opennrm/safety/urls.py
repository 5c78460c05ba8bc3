from django.urls import path

from . import views

app_name = "safety"

urlpatterns = [
    path("children/", views.children_in_area, name="children_in_area"),
    path("<str:reference>/", views.profile_edit, name="edit"),
    path("<str:reference>/dependants/new/", views.dependant_add, name="dependant_add"),
    path(
        "<str:reference>/dependants/<int:dependant_id>/remove/",
        views.dependant_remove,
        name="dependant_remove",
    ),
]
