"""A child's referral confirmation says which of children's services were told, and which must be
contacted directly (told means told, ADR 0015)."""

from __future__ import annotations

from opennrm.accounts.models import Organisation, User
from opennrm.notifications.models import Notification

from . import factories
from . import referral_helpers as r


def _confirmation(alice: User) -> str:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.CHILD_REFERRAL)
    return client.get(r.submit(client, draft)["Location"]).content.decode()


def test_confirmation_does_not_say_the_local_authority_was_told_when_only_the_guardian_service_was(
    alice: User, routing: Organisation, gail: User
) -> None:
    """A first responder refers a child in Testshire, where only the child trafficking guardian
    service (Gail) uses OpenNRM and nobody at the local authority does. The notification goes
    to Gail alone, yet the confirmation page tells the referrer "the local authority and the
    child guardian service for Testshire have been told" (referrals.selectors
    .childrens_services_told only asks whether any "case.child_referred" exists), so they do
    not phone children's services, who must safeguard the child today. ADR 0015 "told means
    told"; safeguarding.services.redirect_message already tells the two apart."""
    page = _confirmation(alice)
    told = set(
        Notification.objects.filter(kind="case.child_referred").values_list("recipient", flat=True)
    )
    assert told == {gail.pk}
    assert "the local authority and the child guardian service" not in page, (
        "the referrer is told the local authority knows of the child; nobody there was told"
    )
    assert "the child trafficking guardian service for Testshire has been told" in page
    assert "children&#39;s services for Testshire uses OpenNRM, so it has not been told" in page


def test_confirmation_does_not_say_the_guardian_service_was_told_when_only_the_local_authority_was(
    alice: User, routing: Organisation, lena: User
) -> None:
    """The converse: only the local authority's safeguarding lead (Lena) uses OpenNRM in
    Testshire. The page still says the child guardian service "have been told" (and, with an
    accommodation need, "We have told them and the child trafficking guardian service"),
    which nobody was: the referrer does not refer the child to the guardian service
    themselves (ADR 0015; redirect_message says "We have told them." here)."""
    page = _confirmation(alice)
    told = set(
        Notification.objects.filter(kind="case.child_referred").values_list("recipient", flat=True)
    )
    assert told == {lena.pk}
    assert "the child guardian service for" not in page or "have been told" not in page, (
        "the referrer is told the guardian service knows of the child; nobody there was told"
    )
    assert "services for Testshire has been told" in page
    assert "guardian service for Testshire uses OpenNRM, so it has not been told" in page
