from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "opennrm.pages"
    label = "pages"
    verbose_name = "Service pages"
