from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "opennrm.statistics"
    label = "statistics"
    verbose_name = "Statistics"
