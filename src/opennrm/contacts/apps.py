from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "opennrm.contacts"
    label = "contacts"
    verbose_name = "Contacts and agency references"
