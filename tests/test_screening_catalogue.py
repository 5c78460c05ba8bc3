"""Indicator catalogues: the bundled one is valid and loaded; a bad file is refused with
specific messages and changes nothing; a new version becomes active and old screenings keep
theirs."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.screening import catalogue, selectors, services
from opennrm.screening.catalogue import CatalogueError, Group, ListKey
from opennrm.screening.models import IndicatorCatalogue, Screening
from opennrm.screening.rules import Dimension, Strength


def bundled() -> dict[str, Any]:
    return json.loads(catalogue.BUNDLED_PATH.read_text(encoding="utf-8"))


def small(version: str = "2", text: str = "A sign") -> dict[str, Any]:
    """A minimal valid catalogue: one indicator per list."""
    return {
        "format": 1,
        "key": "deployment-list",
        "version": version,
        "title": "Deployment list",
        "source": "Licensed official list (test copy)",
        "licence": "Test",
        "lists": {
            key.value: [
                {
                    "code": f"{key.value}-1",
                    "dimension": "deceptive_recruitment",
                    "strength": "strong",
                    "group": "situational",
                    "text": text,
                }
            ]
            for key in ListKey
        },
    }


def problems_of(data: Any) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        catalogue.parse(data)
    return caught.value.problems


# --- The bundled catalogue --------------------------------------------------------------------


def test_the_bundled_catalogue_is_valid_and_covers_every_list_and_dimension() -> None:
    loaded = catalogue.load_bundled()
    assert set(loaded.lists) == set(ListKey)
    for indicator_list in loaded.lists.values():
        per_dimension = Counter(i.dimension for i in indicator_list.indicators)
        assert set(per_dimension) == set(Dimension), indicator_list.key
        assert all(n >= 6 for n in per_dimension.values()), (indicator_list.key, per_dimension)
        assert {i.group for i in indicator_list.indicators} == set(Group)
        assert {i.strength for i in indicator_list.indicators} == set(Strength)
    assert "own words" in loaded.source
    assert "replace" in loaded.source


def test_every_dimension_of_the_bundled_lists_can_be_met() -> None:
    """Otherwise the pattern could never show for that list, whatever is ticked."""
    from opennrm.screening.rules import evaluate_dimension

    for indicator_list in catalogue.load_bundled().lists.values():
        for dimension, indicators in indicator_list.by_dimension():
            assert evaluate_dimension(dimension, indicators).met, (indicator_list.key, dimension)


def test_the_migration_loaded_the_bundled_catalogue_as_active(db: None) -> None:
    active = selectors.active_catalogue()
    assert (active.key, active.version) == ("opennrm-indicators", "1")
    assert active.data == bundled()
    assert active.parsed() == catalogue.load_bundled()


# --- Validation -------------------------------------------------------------------------------


def test_not_json_is_reported_with_line_and_column() -> None:
    with pytest.raises(CatalogueError, match=r"not valid JSON: .* at line 1, column 2"):
        catalogue.loads("{oops")


def test_a_document_that_is_not_an_object_is_refused() -> None:
    assert problems_of([1, 2]) == ["The catalogue must be a JSON object, not a list or a value"]


def test_missing_metadata_and_lists_are_each_named() -> None:
    problems = problems_of({"format": 1})
    assert problems == [
        "key: is missing",
        "version: is missing",
        "title: is missing",
        "source: is missing",
        "licence: is missing",
        "lists: is missing",
    ]


def test_a_wrong_format_is_refused() -> None:
    data = small()
    data["format"] = 2
    assert problems_of(data) == ["format: must be 1; this loader reads format 1 only"]


def test_unknown_dimension_bad_strength_and_unknown_group_say_where_and_what_is_allowed() -> None:
    data = small()
    item = data["lists"]["adult_sexual"][0]
    item.update(dimension="recruitment", strength="very strong", group="emotional")
    problems = problems_of(data)
    assert problems == [
        'lists.adult_sexual[0].dimension: "recruitment" is not a known dimension; use one of: '
        "deceptive_recruitment, coercive_recruitment, abuse_of_vulnerability_recruitment, "
        "exploitative_conditions, coercion_at_destination, abuse_of_vulnerability_at_destination",
        'lists.adult_sexual[0].strength: "very strong" is not a known strength; use one of: '
        "strong, medium, weak",
        'lists.adult_sexual[0].group: "emotional" is not a known group; use one of: '
        "physical, psychological, situational, environmental",
    ]


def test_a_duplicate_code_names_both_places() -> None:
    data = small()
    data["lists"]["child_sexual"][0]["code"] = "adult_labour-1"
    assert problems_of(data) == [
        'lists.child_sexual[0].code: "adult_labour-1" is used twice (also at lists.adult_labour[0])'
    ]


def test_a_missing_field_and_empty_text_are_named() -> None:
    data = small()
    del data["lists"]["adult_labour"][0]["strength"]
    data["lists"]["adult_labour"][0]["text"] = "   "
    assert problems_of(data) == [
        "lists.adult_labour[0].strength: is missing",
        "lists.adult_labour[0].text: must be text that is not empty",
    ]


def test_an_empty_list_a_missing_list_and_an_unknown_list_are_named() -> None:
    data = small()
    data["lists"]["child_labour"] = []
    del data["lists"]["child_sexual"]
    data["lists"]["adult_domestic"] = data["lists"]["adult_labour"]
    assert problems_of(data) == [
        "lists.adult_domestic: is not a known list; use only: "
        "adult_labour, adult_sexual, child_labour, child_sexual",
        "lists.child_labour: must be a list with at least one indicator",
        "lists.child_sexual: is missing",
    ]


def test_an_indicator_that_is_not_an_object_or_has_unknown_fields_is_refused() -> None:
    data = small()
    data["lists"]["adult_labour"].append("just text")
    data["lists"]["adult_sexual"][0]["weight"] = 3
    assert problems_of(data) == [
        "lists.adult_labour[1]: must be an object with code, dimension, strength, group, text",
        "lists.adult_sexual[0]: has unknown fields: weight",
    ]


def test_over_long_text_is_refused() -> None:
    data = small(text="x" * 501)
    assert "is 501 characters long; the limit is 500" in problems_of(data)[0]


# --- Loading a new version --------------------------------------------------------------------


def test_loading_a_new_version_makes_it_active_and_old_screenings_keep_theirs(
    alice: User, northmoor_police: Organisation
) -> None:
    old = selectors.active_catalogue()
    screening = services.screening_record(
        by=alice,
        organisation=northmoor_police,
        list_key="adult_labour",
        is_child=False,
        observed_codes=["AL-DR-01"],
    )
    new = services.catalogue_load(by=None, data=small())
    assert selectors.active_catalogue() == new
    assert IndicatorCatalogue.objects.filter(is_active=True).count() == 1
    old.refresh_from_db()
    assert not old.is_active
    screening.refresh_from_db()
    assert screening.catalogue == old
    later = services.screening_record(
        by=alice,
        organisation=northmoor_police,
        list_key="adult_labour",
        is_child=False,
        observed_codes=["adult_labour-1"],
    )
    assert later.catalogue == new


def test_loading_writes_one_audit_event(db: None) -> None:
    before = AuditEvent.objects.count()
    stored = services.catalogue_load(by=None, data=small())
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert event.action == "indicator_catalogue.loaded"
    assert event.object_id == str(stored.pk)
    assert event.detail["replaced"] == ["opennrm-indicators@1"]


def test_a_bad_catalogue_changes_nothing(db: None) -> None:
    data = small()
    data["lists"]["adult_labour"][0]["dimension"] = "nope"
    before = (IndicatorCatalogue.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as caught:
        services.catalogue_load(by=None, data=data)
    assert '"nope" is not a known dimension' in caught.value.messages[0]
    assert (IndicatorCatalogue.objects.count(), AuditEvent.objects.count()) == before
    assert selectors.active_catalogue().key == "opennrm-indicators"


def test_the_same_version_cannot_be_loaded_twice(db: None) -> None:
    with pytest.raises(ValidationError, match='Version "1" of catalogue "opennrm-indicators"'):
        services.catalogue_load(by=None, data=bundled())


# --- The command ------------------------------------------------------------------------------


def _write(tmp_path: Path, content: str) -> str:
    path = tmp_path / "catalogue.json"
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_the_command_loads_a_replacement_list(db: None, tmp_path: Path, capsys) -> None:
    call_command("load_indicator_catalogue", _write(tmp_path, json.dumps(small())))
    out = capsys.readouterr().out
    assert 'Loaded "Deployment list", key deployment-list, version 2: 4 indicators' in out
    assert "now the active catalogue" in out
    assert selectors.active_catalogue().key == "deployment-list"


def test_the_command_lists_every_problem_and_writes_nothing(db: None, tmp_path: Path) -> None:
    data = copy.deepcopy(small())
    data["lists"]["adult_labour"][0]["strength"] = "huge"
    del data["lists"]["child_labour"]
    with pytest.raises(CommandError) as caught:
        call_command("load_indicator_catalogue", _write(tmp_path, json.dumps(data)))
    message = str(caught.value)
    assert "was not loaded; nothing was changed" in message
    assert '  - lists.adult_labour[0].strength: "huge" is not a known strength' in message
    assert "  - lists.child_labour: is missing" in message
    assert IndicatorCatalogue.objects.count() == 1


def test_the_command_reports_bad_json_and_missing_files(db: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"not valid JSON: .* at line 2, column 1"):
        call_command("load_indicator_catalogue", _write(tmp_path, '{"format": 1,\n'))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_indicator_catalogue", str(tmp_path / "absent.json"))
    assert not Screening.objects.exists()
