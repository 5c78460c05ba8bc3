from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "opennrm.screening"
    label = "screening"
    verbose_name = "Screening for indicators of trafficking"
