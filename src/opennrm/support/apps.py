from django.apps import AppConfig


class SupportConfig(AppConfig):
    """Migrations only: the history of the tables `accommodation` and `care` now own (ADR 0019).
    Its last migration hands their models over to those apps without touching the database."""

    name = "opennrm.support"
    label = "support"
    verbose_name = "Support (migration history)"
