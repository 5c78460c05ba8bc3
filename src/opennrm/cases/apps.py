from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "opennrm.cases"
    label = "cases"
    verbose_name = "People and cases"

    def ready(self) -> None:
        # Who may still be e-mailed news of a case: only this app knows who may open one, and
        # notifications may not import it (ADR 0008).
        from opennrm.notifications.case_readers import register_case_reader_check

        from .selectors import may_hear_of_case

        register_case_reader_check(may_hear_of_case)
