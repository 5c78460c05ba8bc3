from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "opennrm.operations"
    label = "operations"
    verbose_name = "Operations: planned enforcement operations, their partners and expected numbers"

    def ready(self) -> None:
        # A person taken in is protected from removal by their reception reference (ADR 0043).
        from opennrm.protection.selectors import register_source

        from .protection import reception_source

        register_source(reception_source)

        # An ended operation's public account is published by the statistics app, which may
        # not import this one (ADR 0046): it reads the rows through this source.
        from opennrm.statistics.operation_account import register_source as register_account

        from .public_account import SOURCE

        register_account(SOURCE)

        # Who may see an operation's surge places listed at a site: accommodation asks, since
        # only this app knows who is invited (ADR 0044).
        from opennrm.accommodation.surge import register_invited_to

        from .surge import operations_invited_to

        register_invited_to(operations_invited_to)

        # A person taken in as an adult whose referral's age page says they are a child: only
        # this app knows who to tell, and referrals may not import it.
        from opennrm.referrals.services import CHILD_FOUND

        from .services import _child_found_at_referral

        if _child_found_at_referral not in CHILD_FOUND:
            CHILD_FOUND.append(_child_found_at_referral)

        # An age dispute raised on the case of a person taken in: only this app knows the
        # operation's children's services partners, and safeguarding may not import it
        # (ADR 0039, addendum of stop 42).
        from opennrm.safeguarding.services import AGE_DISPUTE_TELLERS

        from .services import _age_disputed_on_case

        if _age_disputed_on_case not in AGE_DISPUTE_TELLERS:
            AGE_DISPUTE_TELLERS.append(_age_disputed_on_case)
