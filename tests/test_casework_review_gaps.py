"""Gaps a review found in casework after referral (casework, care, and support where it touches
them): a service delivered logged twice, a task whose owner left, the adult move-on end shown
for a child, a parent missing with a dependent child, and notes offered to children's services
OpenNRM does not know; and the page that gives a task to someone else. Then (stop 37): a note
changed after Back and sent with the form's used key, and a note's line breaks counted twice."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor, memberships_in_force
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.care import services as care_services
from opennrm.care.models import ServiceDelivery
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.casework import selectors, services
from opennrm.casework.models import CaseNote, TaskStatus
from opennrm.safeguarding import services as safeguarding

from . import case_factories, factories
from . import support_plan_helpers as h


def _consenting(alice: User, police: Organisation, authority: Organisation, **fields) -> Case:
    return case_factories.consenting(alice, police, authority, **fields)


def test_a_service_delivered_sent_twice_is_logged_once(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """The services delivered log is the record of the Art. 12(1) assistance a person had, and
    there is no way to correct or remove an entry (care.services has only
    `service_delivery_record`). A second click or a browser's retry of "Record it" logs the
    same counselling session twice, for ever: the plan then overstates what the person got.
    ADR 27's addendum fixed exactly this for notes ("preventDoubleClick protects only browsers
    running the script") and justified leaving deliveries out because they "can be corrected",
    which they cannot. Expected: the same form sent twice logs one entry."""
    case = _consenting(alice, northmoor_police, authority)
    h.living(cora, maya, provider, case)
    client = factories.signed_in_client(maya)
    url = f"/support/people/{case.reference}/plan/delivered/"
    form_page = client.get(url).content.decode()
    today = timezone.localdate()
    form = {
        "measure": "counselling",
        "delivered_on_day": str(today.day),
        "delivered_on_month": str(today.month),
        "delivered_on_year": str(today.year),
        "provider": str(provider.pk),
        "description": "Two hours of counselling in Albanian",
    }
    # Whatever one-time key the page carries is sent back both times, as a browser would.
    for name, value in re.findall(r'name="(submission_key|[a-z_]*key)" value="([^"]*)"', form_page):
        form[name] = value
    assert client.post(url, form).status_code == 302
    client.post(url, form)
    assert ServiceDelivery.objects.filter(plan__case=case).count() == 1


def test_a_service_delivered_changed_after_going_back_is_logged_not_dropped(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Maya logs a counselling session, goes Back, corrects the description and sends it
    again: the browser sends the same one-time key. It was taken for a double click and the
    corrected entry dropped, though the page said it was recorded (found reviewing notes, stop
    37). Expected: a form sent again with other answers is logged as its own entry."""
    case = _consenting(alice, northmoor_police, authority)
    h.living(cora, maya, provider, case)
    today = timezone.localdate()
    key = uuid.uuid4()
    first = care_services.service_delivery_record(
        by=maya,
        case=case,
        measure="counselling",
        delivered_on=today,
        description="Two hours of counselling",
        provider=provider,
        submission_key=key,
    )
    again = care_services.service_delivery_record(
        by=maya,
        case=case,
        measure="counselling",
        delivered_on=today,
        description="Two hours of counselling ",
        provider=provider,
        submission_key=key,
    )
    assert again.pk == first.pk, "the same answers sent twice are one entry"
    changed = care_services.service_delivery_record(
        by=maya,
        case=case,
        measure="counselling",
        delivered_on=today,
        description="Two hours of counselling in Albanian, with an interpreter",
        provider=provider,
        submission_key=key,
    )
    assert changed.pk != first.pk
    assert ServiceDelivery.objects.filter(plan__case=case).count() == 2


def test_an_open_task_whose_owner_has_left_is_still_someones_to_do(
    case: Case, alice: User, bob: User
) -> None:
    """Tasks belong to the organisation "so that [its records] outlive a member's departure"
    (ADR 27). Alice gives Bob a task due today; Bob then leaves Northmoor Police. The task
    stays open and owned by Bob, but Bob can no longer see it, it is in nobody's "My tasks"
    and in nobody's home-page count, and there is no way to give it to someone else: the
    work silently falls through. Expected: an open task whose owner no longer works the case
    still reaches someone in its organisation (the creator at least) as theirs to act on."""
    task = services.case_task_add(
        by=alice,
        case=case,
        title="Send the crime report to the competent authority",
        owner=bob,
        due_on=timezone.localdate(),
    )
    bob.memberships.update(is_active=False)
    assert task.status == TaskStatus.OPEN
    still_here = [
        m.user
        for m in memberships_in_force().filter(
            organisation=task.organisation, role__in=list(selectors.CASE_ROLES)
        )
    ]
    assert alice in still_here
    reaching = [
        user for user in still_here if task in list(selectors.tasks_for(Actor.of_session(user)))
    ]
    assert reaching, (
        "an open task due today whose owner left the organisation is in nobody's 'My tasks'"
    )


def _child_living_in_an_adult_house(
    alice: User, cora: User, maya: User, provider: Organisation, police, authority
) -> Case:
    """Recognised as an adult victim (move-on ends in 20 days), living in an adult house; then
    their age is disputed, so they are treated as a child (ADR 25)."""
    case = _consenting(
        alice,
        police,
        authority,
        status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        submitted_at=timezone.now(),
        move_on_ends=timezone.localdate() + timedelta(days=20),
    )
    h.living(cora, maya, provider, case)
    case.refresh_from_db()
    safeguarding.age_dispute_raise(
        by=alice, case=case, basis="says_so", expected_version=case.version
    )
    case.refresh_from_db()
    assert case.is_child
    return case


def test_a_childs_support_plan_does_not_end_accommodation_at_the_adult_move_on_date(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """ADR 25 (addendum "no adult move-on for a child"): a child's or age-disputed person's
    support is the local authority's and "does not end with an adult's move-on period"; the
    case page hides the adult clock for them (`cases.selectors.ADULT_SUPPORT_CLOCKS`). The
    support plan's accommodation row still reads "Being provided ... until <adult move-on
    end>" (`care.selectors._accommodation_from_placements` uses `case.move_on_ends`), so the
    house and coordinator are told the child's accommodation ends on the adult's date."""
    case = _child_living_in_an_adult_house(alice, cora, maya, provider, northmoor_police, authority)
    adult_end = f"{case.move_on_ends:%-d %B %Y}"
    page = (
        factories.signed_in_client(cora)
        .get(reverse("support:plan", args=[case.reference]))
        .content.decode()
    )
    assert "Appropriate and secure accommodation" in page
    assert adult_end not in page, "the child's accommodation is shown to end on the adult date"


def test_the_placement_page_does_not_count_down_an_adult_move_on_for_a_child(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Same person as above, seen where the house acts (the placement page, support's page that
    care extends): it still says "Move-on support ends <date>" for a person treated as a child
    (`accommodation.views._move_on_text`), contrary to ADR 25's addendum and to the case page,
    which no longer shows that clock for them."""
    case = _child_living_in_an_adult_house(alice, cora, maya, provider, northmoor_police, authority)
    placement = case.placement_requests.get().placements.get(status="occupied")
    page = (
        factories.signed_in_client(maya)
        .get(reverse("support:placement", args=[placement.pk]))
        .content.decode()
    )
    assert "Move-on support ends" not in page


def test_a_mother_missing_with_her_young_child_is_reported_to_childrens_services(
    alice: User,
    cora: User,
    maya: User,
    lena: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """An adult living in a safe house with her 6-year-old (a dependant recorded on her safety
    profile, of which the local authority was told: ADR 26, "a dependent child is known to the
    local authority") disappears with the child. The missing report tells the police, the
    coordinators and the competent authority, but children's services only when the *case* is
    a child's (`care.services._tell_about_missing`), so nobody tells the local authority that a
    young child known to it is missing with a trafficked parent (Children Act 1989 s.47 duty;
    FACTS: dependent children "should trigger a local authority referral"). Expected: the
    area's safeguarding leads are told, as for any missing child."""
    from opennrm.care import services as care
    from opennrm.notifications.models import Notification
    from opennrm.safety import services as safety

    case = _consenting(alice, northmoor_police, authority)
    h.living(cora, maya, provider, case)
    safety.dependant_add(
        by=alice,
        case=case,
        expected_version=None,
        relationship="child",
        sex="female",
        age_years=6,
    )
    # Lena (Testshire's local authority) was told of the child when it was recorded.
    assert Notification.objects.filter(recipient=lena).exists()
    Notification.objects.all().delete()
    care.missing_report(
        by=cora,
        case=case,
        went_missing_on=timezone.localdate(),
        last_seen="Left with her daughter by the back gate",
    )
    assert Notification.objects.filter(recipient=lena, kind="missing.reported").exists(), (
        "the local authority is not told that a dependent child is missing"
    )


def test_a_note_is_not_offered_to_childrens_services_that_opennrm_does_not_know(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """A child's case in an area where OpenNRM knows no local authority or child guardian
    service: the note form still offers "Shared with ... children's services (the safeguarding
    leads for children in <area>)" (`casework.selectors.visibility_choices`), and a note so
    shared is read by nobody there (`parties_of` finds no lead). The first responder believes
    children's services have been told what the note says about the child. ADR 15 ("Told means
    told") requires OpenNRM to say children's services are told only when it actually reaches
    them, and to ask staff to contact them otherwise. Expected: the choice is not offered as
    reaching children's services when none is known for the area, or the form says so."""
    from opennrm.cases.choices import AgeGroup

    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
    )
    assert not Organisation.objects.filter(
        kind__in=selectors.SAFEGUARDING_KINDS, area=child.area
    ).exists()
    page = (
        factories.signed_in_client(alice)
        .get(reverse("cases:note_add", args=[child.reference]))
        .content.decode()
    )
    offered = "children&#39;s services (the safeguarding leads for children in" in page or (
        "children's services (the safeguarding leads for children in" in page
    )
    warned = "knows no local authority" in page or "no children's services" in page.lower()
    assert not offered or warned, (
        "children's services offered as readers of the note where OpenNRM knows none"
    )


@pytest.mark.page("casework:task_reassign")
def test_giving_a_task_whose_owner_left_to_someone_else(
    case: Case, alice: User, bob: User, charlie: User, dmitri: User
) -> None:
    """The notes page flags the task of an owner who has left as needing a new owner, and
    anyone in the task's organisation gives it to a colleague there: audited, and the task is
    in the new owner's "My tasks" and no longer in its creator's."""
    task = services.case_task_add(
        by=alice,
        case=case,
        title="Send the crime report to the competent authority",
        owner=bob,
        due_on=timezone.localdate(),
    )
    bob.memberships.update(is_active=False)
    client = factories.signed_in_client(alice)
    notes = client.get(reverse("cases:notes", args=[case.reference])).content.decode()
    assert "Needs a new owner" in notes
    assert reverse("casework:task_reassign", args=[task.pk]) in notes
    assert "Needs a new owner" in client.get(reverse("casework:my_tasks")).content.decode()

    url = reverse("casework:task_reassign", args=[task.pk])
    assert client.get(url).status_code == 405
    # Outsiders, and the competent authority (which may open the case but not Northmoor's
    # tasks), get 404.
    assert factories.signed_in_client(charlie).post(url, {"owner": alice.pk}).status_code == 404
    assert factories.signed_in_client(dmitri).post(url, {"owner": dmitri.pk}).status_code == 404
    response = client.post(url, {"owner": str(alice.pk)})
    assert response.status_code == 302
    assert reverse("cases:notes", args=[case.reference]) in response["Location"]
    task.refresh_from_db()
    assert task.owner == alice
    event = AuditEvent.objects.get(action="case_task.reassigned")
    assert (event.actor, event.detail["owner"], event.detail["previous_owner"]) == (
        alice,
        alice.pk,
        bob.pk,
    )
    assert [t.pk for t in selectors.tasks_for(Actor.of_session(alice))] == [task.pk]
    assert (
        "Needs a new owner"
        not in client.get(reverse("cases:notes", args=[case.reference])).content.decode()
    )


def test_a_task_is_given_only_to_someone_in_its_organisation_who_can_open_the_case(
    case: Case, alice: User, bob: User, dmitri: User, charlie: User
) -> None:
    """The checks of adding a task: a colleague of the task's organisation, not someone at the
    competent authority or elsewhere, nor someone who has left; and not once it is done."""
    task = services.case_task_add(
        by=alice, case=case, title="Book an interpreter", owner=alice, due_on=timezone.localdate()
    )
    for stranger in (dmitri, charlie):
        with pytest.raises(ValidationError) as refused:
            services.case_task_reassign(by=alice, task=task, owner=stranger)
        assert list(refused.value.message_dict) == ["owner"]
    with pytest.raises(ValidationError, match="Only people in the task's organisation"):
        services.case_task_reassign(by=dmitri, task=task, owner=dmitri)
    bob.memberships.update(is_active=False)
    with pytest.raises(ValidationError):
        services.case_task_reassign(by=alice, task=task, owner=bob)
    services.case_task_done(by=alice, task=task)
    with pytest.raises(ValidationError, match="already been marked done"):
        services.case_task_reassign(by=alice, task=task, owner=alice)
    task.refresh_from_db()
    assert task.owner == alice


# --- A note changed after Back, and line breaks counted once (stop 37) ---------------------


def _note_form(client, case: Case) -> tuple[str, str]:
    url = reverse("cases:note_add", args=[case.reference])
    key = re.search(r'name="submission_key" value="([^"]+)"', client.get(url).content.decode())
    assert key is not None
    return url, key.group(1)


def test_a_note_changed_after_going_back_is_not_silently_dropped(case: Case, alice: User) -> None:
    """Alice (first responder following up her referral) adds a note, realises she left out
    the bit about the exploiter's car, presses Back (the browser restores the form as it was,
    her text and the hidden one-time `submission_key` with it), adds the paragraph and sends it.
    `casework.services.case_note_add` finds a note with that key and returns it without
    looking at the text, so the page says "Note added" while the new paragraph is thrown away:
    lost input behind a success message, on a record that can never be corrected in place.
    Expected: a different note sent with a used key is added (or refused with a message), never
    discarded as a duplicate."""
    client = factories.signed_in_client(alice)
    url, key = _note_form(client, case)
    first = "Met Z at the drop-in. She is scared of the man who drives her to work."
    form = {"submission_key": key, "visibility": "competent_authority", "text": first}
    assert client.post(url, form, follow=True).redirect_chain, "the first note was not added"
    more = first + "\n\nHe drives a silver Vauxhall Astra, registration starting WX21."
    response = client.post(url, form | {"text": more}, follow=True)
    texts = [note.text for note in CaseNote.objects.filter(case=case)]
    added = more in texts
    refused = "Note added" not in response.content.decode()
    assert added or refused, "the second, longer note was dropped while the page said 'Note added'"


def test_each_note_sent_from_one_form_is_added_once_and_the_page_says_which(
    case: Case, alice: User
) -> None:
    """The form's key still stops a double click, of the first note and of the note changed
    after Back; the same words with other readers are another note; the message says whether
    the note was added, added as a new note, or already there."""
    client = factories.signed_in_client(alice)
    url, key = _note_form(client, case)
    form = {"submission_key": key, "visibility": "own_organisation", "text": "Met at the drop-in."}

    def send(**changes: str) -> str:
        response = client.post(url, form | changes, follow=True)
        return response.content.decode().replace("&#x27;", "'")

    assert "Note added" in send()
    assert "already been added" in send(text="  Met at the drop-in. ")
    assert "Note added as a new note" in send(text="Met at the drop-in. Scared.")
    assert "already been added" in send(text="Met at the drop-in. Scared.")
    assert "Note added as a new note" in send(visibility="competent_authority")
    notes = CaseNote.objects.filter(case=case).order_by("created_at", "id")
    assert [(note.text, note.visibility, note.submission_key is not None) for note in notes] == [
        ("Met at the drop-in.", "own_organisation", True),
        ("Met at the drop-in. Scared.", "own_organisation", False),
        ("Met at the drop-in.", "competent_authority", False),
    ]
    assert AuditEvent.objects.filter(action="case_note.added").count() == 3


def test_a_long_note_is_measured_as_the_author_sees_it(case: Case, alice: User) -> None:
    """A support worker writes up a long interview: 4,998 characters in 50 paragraphs.
    Browsers send every line break in a textarea as CR LF (HTML's form submission), so
    `casework.forms.NoteForm` (max_length) and `casework.services.case_note_add` (MAX_NOTE)
    count 5,000 and more, and refuse it with "The note must be 5,000 characters or fewer" - a
    note any counter, and the author, sees as 4,900. Nothing on the page says what counts, so
    she cuts text she needed, guessing. Expected: line breaks are counted once (normalise CR LF
    to LF before measuring and storing)."""
    client = factories.signed_in_client(alice)
    url, key = _note_form(client, case)
    paragraph = "Said the van came at six and took them to the packing plant." + "x" * 38
    text = "\r\n\r\n".join([paragraph] * 50)  # a blank line between, as a browser sends it
    seen = text.replace("\r\n", "\n")
    assert len(seen) <= 5000 < len(text)
    response = client.post(
        url, {"submission_key": key, "visibility": "own_organisation", "text": text}
    )
    assert response.status_code == 302, "a note within the limit as its author sees it is refused"
    assert CaseNote.objects.get(case=case).text == seen


def test_the_service_stores_a_notes_line_breaks_as_lf(case: Case, alice: User) -> None:
    """Called without the form (an old CR, or CR LF), the service counts and stores LF."""
    note = services.case_note_add(
        by=alice, case=case, text="One.\r\nTwo.\rThree.", visibility="own_organisation"
    )
    assert note.text == "One.\nTwo.\nThree."
    with pytest.raises(ValidationError, match="5,000 characters or fewer"):
        services.case_note_add(
            by=alice, case=case, text="x\n" * 2500 + "y", visibility="own_organisation"
        )
