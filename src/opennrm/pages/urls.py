from django.urls import path

from . import views

app_name = "pages"

urlpatterns = [
    path("", views.home, name="home"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("cookies-and-privacy/", views.privacy, name="privacy"),
    path("healthz", views.healthz, name="healthz"),
]
