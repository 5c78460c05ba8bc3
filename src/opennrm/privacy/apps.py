from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "opennrm.privacy"
    label = "privacy"
    verbose_name = "Privacy: retention, erasure and subject access"
