from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "opennrm.linkage"
    label = "linkage"
    verbose_name = "Record linkage: referrals that may be the same person, and those confirmed"

    def ready(self) -> None:
        # Referrals confirmed to be one person protect one another from removal (ADR 0040).
        from opennrm.protection.selectors import register_source

        from .protection import linked_source

        register_source(linked_source)
