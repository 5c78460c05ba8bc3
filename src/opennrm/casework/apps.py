from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "opennrm.casework"
    label = "casework"
    verbose_name = "Casework: case notes and tasks"
