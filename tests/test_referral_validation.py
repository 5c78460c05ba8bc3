"""Every bad answer gets a specific GOV.UK message, keeps everything else, and writes nothing
wrong; evidence files are checked by content and size."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.referrals.models import EvidenceFile

from . import factories
from . import referral_helpers as r

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64 + b"\n%%EOF"


@pytest.fixture
def client_and_draft(alice: User, council: Organisation):
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS})
    return client, draft


def errors(response) -> str:
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    return html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"date_of_birth_day": "1", "date_of_birth_month": "1", "date_of_birth_year": "2099"},
            "Date of birth must be in the past",
        ),
        (
            {"date_of_birth_day": "31", "date_of_birth_month": "2", "date_of_birth_year": "2001"},
            "Date of birth must be a real date",
        ),
        (
            {"date_of_birth_day": "1", "date_of_birth_month": "", "date_of_birth_year": "2001"},
            "Date of birth must include a month",
        ),
        (
            {"date_of_birth_day": "1", "date_of_birth_month": "1", "date_of_birth_year": "1850"},
            "Date of birth must give an age of 120 or less",
        ),
        (
            {"date_of_birth_day": "1", "date_of_birth_month": "1", "date_of_birth_year": "01"},
            "enter the year as 4 digits",
        ),
        (
            {
                "date_of_birth_day": "",
                "date_of_birth_month": "",
                "date_of_birth_year": "",
                "estimated_age": "150",
            },
            "Estimated age must be 120 or less",
        ),
        (
            {
                "date_of_birth_day": "",
                "date_of_birth_month": "",
                "date_of_birth_year": "",
                "estimated_age": "-3",
            },
            "Estimated age must be 0 or more",
        ),
        (
            {
                "date_of_birth_day": "",
                "date_of_birth_month": "",
                "date_of_birth_year": "",
                "estimated_age": "",
            },
            "Enter their date of birth or an estimated age",
        ),
        ({"nationality_1": "XX"}, "Select a nationality from the list"),
        ({"nationality_1": ""}, "Select a nationality from the list"),
        ({"nationality_2": "AL"}, "Second nationality must be different from the first"),
        ({"language_1": "zz"}, "Select the person&#39;s main language from the list"),
        ({"given_names": ""}, "Enter the person&#39;s given names"),
        ({"sex": "robot"}, "Select the person&#39;s sex"),
    ],
)
def test_person_page_errors_are_specific_and_keep_the_other_answers(
    client_and_draft, change: dict, message: str
) -> None:
    client, draft = client_and_draft
    html = errors(r.answer(client, draft, "person", {**r.PERSON, **change}))
    assert message in html
    if "given_names" not in change:
        assert 'value="Zorica Testova"' in html
    assert "Through the outreach worker only" in html
    draft.refresh_from_db()
    assert draft.answers["person"]["safe_contact"] == "Through the outreach worker only"


def test_missing_consent_for_an_adult_is_named(alice: User, council: Organisation) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.answer(client, draft, "age", r.ADULT)
    html = errors(
        r.answer(client, draft, "consent", {"explanation_version": "opennrm-consent-2026-1"})
    )
    assert "Select whether the person consents to being referred" in html
    assert "Select the language you explained it in" in html
    html = errors(r.answer(client, draft, "consent", {**r.CONSENTS, "consents_to_support": ""}))
    assert "Select whether the person consents to receiving support" in html


def test_age_not_sure_needs_the_reason_question(alice: User) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    html = errors(r.answer(client, draft, "age", {"under_18": "not_sure"}))
    assert "Select whether there is reason to believe they may be under 18" in html
    assert (
        errors(r.answer(client, draft, "age", {})).count("Select whether the person is under 18")
        == 2
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"types": []}, "Select at least one kind of exploitation"),
        ({"types": ["piracy"]}, "Select kinds of exploitation from the list"),
        ({"area": "Atlantis"}, "Select the local authority area the person is in now"),
        ({"started_month": "13", "started_year": "2025"}, "When it started must be a real date"),
        ({"started_month": "1", "started_year": "2999"}, "When it started must be in the past"),
    ],
)
def test_exploitation_page_errors(client_and_draft, change: dict, message: str) -> None:
    client, draft = client_and_draft
    html = errors(r.answer(client, draft, "exploitation", {**r.EXPLOITATION, **change}))
    assert message in html
    assert "A car wash on the ring road" in html


def test_needs_none_must_stand_alone(client_and_draft) -> None:
    client, draft = client_and_draft
    html = errors(r.answer(client, draft, "needs", {"needs": ["none", "medical"]}))
    assert "Select &#39;None of these&#39; on its own" in html


def test_script_in_free_text_is_shown_escaped(client_and_draft, routing: Organisation) -> None:
    client, draft = client_and_draft
    script = "<script>alert('x')</script>"
    r.complete(
        client,
        draft,
        {
            "person": r.PERSON,
            "exploitation": r.EXPLOITATION,
            "indicators": r.NO_INDICATORS,
            "account": {**r.ACCOUNT, "persons_account": script},
            "needs": r.NO_NEEDS,
        },
    )
    check = client.get(reverse("referrals:check_answers", args=[draft.public_id])).content.decode()
    assert script not in check
    assert "&lt;script&gt;" in check
    r.submit(client, draft)
    page = client.get(reverse("cases:detail", args=[Case.objects.get().reference])).content.decode()
    assert script not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


class TestEvidence:
    def upload(self, client, draft, content: bytes, name: str):
        return client.post(
            reverse("referrals:evidence", args=[draft.public_id]),
            {"file": SimpleUploadedFile(name, content, content_type="application/pdf")},
        )

    @pytest.mark.page("referrals:evidence")
    def test_pdf_and_png_are_accepted_and_named_randomly_on_disk(
        self, client_and_draft, settings, tmp_path
    ) -> None:
        settings.PRIVATE_FILES_DIR = tmp_path
        client, draft = client_and_draft
        r.complete(client, draft, {"person": r.PERSON})
        assert self.upload(client, draft, PDF, "statement Zorica.pdf").status_code == 302
        assert self.upload(client, draft, PNG, "photo.png").status_code == 302
        files = list(EvidenceFile.objects.order_by("id"))
        assert [f.content_type for f in files] == ["application/pdf", "image/png"]
        assert "Zorica" not in files[0].file.name
        download = client.get(
            reverse("referrals:evidence_download", args=[draft.public_id, files[0].pk])
        )
        assert download["Content-Type"] == "application/pdf"
        assert download["Content-Disposition"].startswith("attachment")
        assert b"".join(download.streaming_content) == PDF

    @pytest.mark.page("referrals:evidence_download")
    def test_the_download_name_ends_in_the_extension_of_the_type_found(
        self, client_and_draft, settings, tmp_path
    ) -> None:
        """A real PDF uploaded as 'statement.html' is stored, listed and downloaded as
        'statement.pdf': saved and opened, it is a PDF, never a page in the browser."""
        settings.PRIVATE_FILES_DIR = tmp_path
        client, draft = client_and_draft
        for name, content in (
            ("statement.html", PDF),
            ("photo.jpeg.exe", PNG),
            ("scan", PDF),
            ("Photo.PNG", PNG),
        ):
            assert self.upload(client, draft, content, name).status_code == 302
        files = list(EvidenceFile.objects.order_by("id"))
        assert [f.original_name for f in files] == [
            "statement.pdf",
            "photo.jpeg.png",
            "scan.pdf",
            "Photo.PNG",
        ]
        assert [f.file.name.rsplit(".", 1)[1] for f in files] == ["pdf", "png", "pdf", "png"]
        download = client.get(
            reverse("referrals:evidence_download", args=[draft.public_id, files[0].pk])
        )
        assert download["Content-Disposition"] == 'attachment; filename="statement.pdf"'
        # A row stored before names were made safe is downloaded under a safe name too.
        files[0].original_name = "old.svg"
        files[0].save(update_fields=["original_name"])
        download = client.get(
            reverse("referrals:evidence_download", args=[draft.public_id, files[0].pk])
        )
        assert download["Content-Disposition"] == 'attachment; filename="old.pdf"'

    @pytest.mark.page("referrals:evidence_remove")
    def test_file_names_never_travel_in_a_cookie(
        self, client_and_draft, settings, tmp_path
    ) -> None:
        """The confirmation names the file, which can name the person: it is kept in the session
        on the server, not in a cookie in the browser."""
        settings.PRIVATE_FILES_DIR = tmp_path
        client, draft = client_and_draft
        page = reverse("referrals:evidence", args=[draft.public_id])
        response = self.upload(client, draft, PDF, "statement Zorica.pdf")
        assert "Zorica" not in str(response.cookies)
        assert "messages" not in client.cookies
        assert "statement Zorica.pdf has been added" in client.get(page).content.decode()
        evidence = EvidenceFile.objects.get()
        response = client.post(
            reverse("referrals:evidence_remove", args=[draft.public_id, evidence.pk])
        )
        assert "Zorica" not in str(response.cookies)
        assert "messages" not in client.cookies
        assert "statement Zorica.pdf has been removed" in client.get(page).content.decode()

    def test_a_disguised_file_is_refused(self, client_and_draft, settings, tmp_path) -> None:
        settings.PRIVATE_FILES_DIR = tmp_path
        client, draft = client_and_draft
        html = errors(
            self.upload(client, draft, b"<html><script>evil()</script></html>", "looks-like.pdf")
        )
        assert "The selected file must be a PDF, JPEG or PNG" in html
        assert not EvidenceFile.objects.exists()
        assert not list(tmp_path.rglob("*.*"))

    @override_settings(EVIDENCE_MAX_BYTES=1024)
    def test_an_oversized_file_is_refused(self, client_and_draft, settings, tmp_path) -> None:
        settings.PRIVATE_FILES_DIR = tmp_path
        client, draft = client_and_draft
        html = errors(self.upload(client, draft, PDF + b"0" * 2048, "big.pdf"))
        assert "The selected file must be smaller than" in html
        assert not EvidenceFile.objects.exists()

    def test_empty_and_missing_files_are_explained(self, client_and_draft) -> None:
        client, draft = client_and_draft
        assert "Select a file to upload" in errors(
            client.post(reverse("referrals:evidence", args=[draft.public_id]), {})
        )
        assert "The selected file is empty" in errors(self.upload(client, draft, b"", "empty.pdf"))

    def test_outsiders_get_404_on_an_attachment(
        self, client_and_draft, bob: User, charlie: User, routing, settings, tmp_path
    ) -> None:
        settings.PRIVATE_FILES_DIR = tmp_path
        client, draft = client_and_draft
        self.upload(client, draft, PDF, "statement.pdf")
        evidence = EvidenceFile.objects.get()
        for person in (bob, charlie):
            other = factories.signed_in_client(person)
            assert (
                other.get(
                    reverse("referrals:evidence_download", args=[draft.public_id, evidence.pk])
                ).status_code
                == 404
            )
        r.complete(
            client,
            draft,
            {
                "person": r.PERSON,
                "exploitation": r.EXPLOITATION,
                "indicators": r.NO_INDICATORS,
                "account": r.ACCOUNT,
                "needs": r.NO_NEEDS,
            },
        )
        r.submit(client, draft)
        case = Case.objects.get()
        url = reverse("cases:evidence_download", args=[case.reference, evidence.pk])
        assert factories.signed_in_client(charlie).get(url).status_code == 404
        assert factories.signed_in_client(bob).get(url).status_code == 200

    def test_files_are_not_reachable_by_any_public_url(
        self, client_and_draft, settings, tmp_path
    ) -> None:
        settings.PRIVATE_FILES_DIR = tmp_path
        client, draft = client_and_draft
        self.upload(client, draft, PDF, "statement.pdf")
        stored = EvidenceFile.objects.get().file.name
        for prefix in ("/static/", "/media/", "/"):
            assert client.get(prefix + stored).status_code == 404
