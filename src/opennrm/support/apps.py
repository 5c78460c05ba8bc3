from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "opennrm.support"
    label = "support"
    verbose_name = "Support and accommodation"
