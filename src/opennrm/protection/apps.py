from __future__ import annotations

from django.apps import AppConfig


class ProtectionConfig(AppConfig):
    name = "opennrm.protection"
    label = "protection"
    verbose_name = "Protection from removal"
