from django.apps import AppConfig


class AccommodationConfig(AppConfig):
    name = "opennrm.accommodation"
    label = "accommodation"
    verbose_name = "Accommodation"
