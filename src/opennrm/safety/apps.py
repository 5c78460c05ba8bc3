from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "opennrm.safety"
    label = "safety"
    verbose_name = "Safety: each person's risk, places to keep away from, needs and dependants"
