from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "opennrm.cases"
    label = "cases"
    verbose_name = "People and cases"

    def ready(self) -> None:
        # Who may still hear news of a case (listed, counted, e-mailed): only this app knows who
        # may open one, and notifications may not import it (ADR 0008).
        from opennrm.notifications.case_readers import register_case_reader_batch

        from .selectors import cases_heard_of

        register_case_reader_batch(cases_heard_of)
