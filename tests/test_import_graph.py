"""No import cycle among the domain apps, `lib` imports no app, and no app imports `pages`; and
the checker itself (`opennrm.lib.import_graph`), tried on small packages made for each test.

`make imports` prints the whole graph with the number of import statements on each edge.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from opennrm.lib.import_graph import Import, cycles, domain_graph, graph, imports, problems

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "opennrm"


def test_the_apps_import_each_other_without_a_cycle() -> None:
    found = problems(graph(imports(PACKAGE, root=ROOT)))
    if found:
        pytest.fail("\n".join(found), pytrace=False)


def make_package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A package `pkg` in tmp_path with these files (path inside it: source)."""
    package = tmp_path / "pkg"
    for name, source in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(source), encoding="utf-8")
    return package


def problems_of(package: Path) -> list[str]:
    return problems(graph(imports(package)))


def test_a_cycle_is_found_with_the_file_and_line_of_each_import(tmp_path: Path) -> None:
    package = make_package(
        tmp_path,
        {
            "cases/services.py": "from pkg.decisions.models import Decision\n",
            "decisions/models.py": "import os\n\nfrom pkg.cases import services\n",
        },
    )
    found = problems_of(package)
    assert "  cases -> decisions -> cases" in found
    assert "      pkg/cases/services.py:1" in found
    assert "      pkg/decisions/models.py:3" in found


def test_an_import_inside_a_function_makes_a_cycle_too(tmp_path: Path) -> None:
    package = make_package(
        tmp_path,
        {
            "cases/views.py": "from pkg.support.selectors import beds\n",
            "support/selectors.py": """\
                def beds():
                    if True:
                        from pkg.cases.models import Case
                    return Case
            """,
        },
    )
    found = problems_of(package)
    assert "  cases -> support -> cases" in found
    assert "      pkg/support/selectors.py:3 (in a function)" in found


def test_a_type_checking_import_counts_and_says_so(tmp_path: Path) -> None:
    package = make_package(
        tmp_path,
        {
            "cases/models.py": "from pkg.notifications import services\n",
            "notifications/services.py": """\
                from typing import TYPE_CHECKING

                if TYPE_CHECKING:
                    from pkg.cases.models import Case
            """,
        },
    )
    found = problems_of(package)
    assert "  cases -> notifications -> cases" in found
    assert "      pkg/notifications/services.py:4 (type only)" in found


def test_relative_imports_and_imports_of_the_package_are_resolved(tmp_path: Path) -> None:
    package = make_package(
        tmp_path,
        {
            "a/__init__.py": "from ..b import thing\n",
            "b/views.py": "from .. import c\n",
            "c/deep/module.py": "from ...a import x\nfrom . import sibling\nfrom .. import models\n",
        },
    )
    edges = graph(imports(package))
    assert set(edges) == {("a", "b"), ("b", "c"), ("c", "a")}
    assert cycles(edges) == [["a", "b", "c"]]


def test_each_edge_on_a_cycle_is_listed_once_in_its_shortest_cycle(tmp_path: Path) -> None:
    package = make_package(
        tmp_path,
        {
            "a/m.py": "import pkg.b\nimport pkg.c\n",
            "b/m.py": "import pkg.a\n",
            "c/m.py": "import pkg.b\n",
        },
    )
    assert cycles(graph(imports(package))) == [["a", "b"], ["a", "c", "b"]]


def test_no_false_positive(tmp_path: Path) -> None:
    """Layers that point one way, infrastructure imported by all, imports inside one app,
    migrations and dotted strings: nothing to report."""
    package = make_package(
        tmp_path,
        {
            "settings.py": "INSTALLED_APPS = ['pkg.referrals', 'pkg.cases']\n",
            "urls.py": "from pkg.pages import views\ninclude = 'pkg.referrals.urls'\n",
            "pages/views.py": "from pkg.referrals import views\nfrom pkg.cases import views\n",
            "referrals/views.py": "from pkg.cases.models import Case\nfrom . import forms\n",
            "referrals/forms.py": "from .models import Draft\nfrom pkg.lib.govuk import x\n",
            "referrals/migrations/0001_initial.py": "from pkg.pages import views\n",
            "cases/models.py": """\
                from django.db import models
                from pkg.api.schemas import Schema
                from pkg.audit.services import audit_record

                person = models.ForeignKey("referrals.Draft", on_delete=models.CASCADE)
            """,
            "api/urls.py": "from pkg.cases import api\nfrom pkg.referrals import api\n",
            "audit/services.py": "from pkg.cases.models import Case\n",
            "lib/govuk.py": "import re\nfrom . import other\n",
        },
    )
    edges = graph(imports(package))
    assert problems(edges) == []
    assert set(domain_graph(edges)) == {("referrals", "cases")}


def test_lib_may_import_no_app_and_no_app_may_import_pages(tmp_path: Path) -> None:
    package = make_package(
        tmp_path,
        {
            "lib/fields.py": "from pkg.audit.services import audit_record\n",
            "cases/views.py": "from pkg.pages.home import tasks\nfrom pkg import urls\n",
            "urls.py": "",
        },
    )
    found = problems_of(package)
    assert "  lib -> audit (1):" in found
    assert "  cases -> pages (1):" in found
    assert "  cases -> (project) (1):" in found
    assert not any("cycle" in line for line in found)


def test_an_import_knows_where_it_is() -> None:
    each = Import("a", "b", "pkg/a/m.py", 7, deferred=True, type_only=True)
    assert each.where() == "pkg/a/m.py:7 (in a function, type only)"
