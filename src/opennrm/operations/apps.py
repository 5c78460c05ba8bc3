from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "opennrm.operations"
    label = "operations"
    verbose_name = "Operations: planned enforcement operations, their partners and expected numbers"
