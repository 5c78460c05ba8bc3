from django.urls import path

from . import views

app_name = "linkage"

urlpatterns = [
    path("", views.pairs, name="pairs"),
    path("pairs/<int:pair_id>/", views.pair, name="pair"),
    path("pairs/<int:pair_id>/unlink/", views.pair_unlink, name="pair_unlink"),
    path("pairs/<int:pair_id>/reopen/", views.pair_reopen, name="pair_reopen"),
    path("quality/", views.quality, name="quality"),
]
