from django.apps import AppConfig


class SafeguardingConfig(AppConfig):
    name = "opennrm.safeguarding"
    label = "safeguarding"
    verbose_name = "Safeguarding: the children's pathway and age assessment"

    def ready(self) -> None:
        # A child's safety profile changed: the local authority arranging their accommodation
        # is told (ADR 26). safety imports nothing of safeguarding, so safeguarding registers
        # its teller there.
        from opennrm.cases import services as cases
        from opennrm.notifications.case_readers import register_case_news_keeper
        from opennrm.protection.selectors import register_case_alert
        from opennrm.safety import services as safety

        from .selectors import (
            care_leavers_news_kept,
            children_services_to_alert,
            open_task_close_refusal,
        )
        from .services import _child_safety_changed_told, _child_status_changed_told

        if _child_safety_changed_told not in safety.PROFILE_CHANGE_TELLERS:
            safety.PROFILE_CHANGE_TELLERS.append(_child_safety_changed_told)
        # A case is never closed while a children's services task for the child is open: cases
        # imports nothing of safeguarding, so safeguarding registers its check there.
        if open_task_close_refusal not in cases.CLOSE_CHECKS:
            cases.CLOSE_CHECKS.append(open_task_close_refusal)
        # Every change of a child's case's status (a decision above all) is told to their
        # children's services and guardian service too, registered the same way (stop 40).
        if _child_status_changed_told not in cases.STATUS_CHANGE_TELLERS:
            cases.STATUS_CHANGE_TELLERS.append(_child_status_changed_told)
        # A removal planned for a child is told to their children's services too (ADR 0040,
        # addendum of stop 38): protection imports nothing of safeguarding.
        register_case_alert(children_services_to_alert)
        # A lead's news of a person who turned 18 stays hers while her council still holds
        # their task, and opens on it: only this app knows who holds a task, and notifications
        # may not import it (ADR 0025, addendum of stop 42).
        register_case_news_keeper(care_leavers_news_kept)
