from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "opennrm.referrals"
    label = "referrals"
    verbose_name = "Referrals"
