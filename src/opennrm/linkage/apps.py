from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "opennrm.linkage"
    label = "linkage"
    verbose_name = "Record linkage: referrals that may be the same person, and those confirmed"
