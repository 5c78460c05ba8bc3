"""Which app imports which: the app-level import graph of the `opennrm` package, its cycles, and
the layering rules around it.

Pure: it reads the source with `ast`, so nothing it reads is imported or run, and it needs no
Django. `make imports` prints the graph (`python -m opennrm.lib.import_graph`), and
`tests/test_import_graph.py` fails while a rule is broken.

What makes an edge from app A to app B: an `import opennrm.B...`, a `from opennrm.B... import`,
a `from opennrm import B` or a relative import that resolves into B (`from ..B import x`), in any
module under `opennrm/A/`, wherever it stands:

- at the top of the module;
- inside a function. A deferred import avoids a circular import at start-up, and hides the
  dependency rather than removing it, so it counts;
- under `if TYPE_CHECKING:`. Such an import makes no cycle at run time, but A is still written
  in terms of B's types: the two cannot be read, moved or tested apart, which is the design
  cycle this check is about. It counts too, and is marked "type only" so a fix can start there.

Left out, on purpose:

- migrations: they name other apps in `dependencies` strings, which the schema needs;
- dotted strings: `include("opennrm.x.urls")`, `import_module("opennrm.x.demo")`, settings, and
  model references such as `ForeignKey("cases.Case")`; they are wiring, not imports;
- the infrastructure apps `api`, `lib` and `audit`, which every app may import: they are not
  nodes of the cycle search. `lib` itself imports nothing else of the project;
- `pages`, the site-level composition layer (home page, error pages, middleware): it may import
  every app, and no app may import it. The project's own modules (`settings.py`, `urls.py`,
  `jinja2.py`, `wsgi.py`, `asgi.py`) are a layer above the apps in the same way.

The rules, checked by `problems()`:

1. No cycle among the domain apps (everything but the infrastructure, `pages` and the project's
   own modules).
2. `lib` imports no other app of the project.
3. No app imports `pages` or the project's own modules.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

INFRASTRUCTURE = frozenset({"api", "lib", "audit"})
COMPOSITION = "pages"
# The node that stands for the package's own top-level modules (settings, urls, jinja2, ...).
PROJECT = "(project)"
SKIPPED_FOLDERS = frozenset({"migrations", "__pycache__"})


@dataclass(frozen=True, order=True)
class Import:
    """One import statement that makes `source` depend on `target` (both app names)."""

    source: str
    target: str
    path: str  # the importing file, relative to the root given to `imports()`
    line: int
    deferred: bool = False  # inside a function
    type_only: bool = False  # under `if TYPE_CHECKING:`

    def where(self) -> str:
        notes = [
            n for n, on in (("in a function", self.deferred), ("type only", self.type_only)) if on
        ]
        return f"{self.path}:{self.line}" + (f" ({', '.join(notes)})" if notes else "")


Graph = Mapping[tuple[str, str], Sequence[Import]]


def imports(package_dir: Path, root: Path | None = None) -> list[Import]:
    """Every import between two different apps of the package at `package_dir`, sorted.

    An app is a folder directly inside the package; its modules' paths are reported relative to
    `root` (the package's parent unless given).
    """
    package_dir = package_dir.resolve()
    root = root.resolve() if root is not None else package_dir.parent
    # A name right under the package is an app unless it is one of the package's own modules.
    own_modules = {p.stem for p in package_dir.glob("*.py")}
    found: list[Import] = []
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir)
        if SKIPPED_FOLDERS.intersection(relative.parts):
            continue
        source = relative.parts[0] if len(relative.parts) > 1 else PROJECT
        module = [package_dir.name, *relative.with_suffix("").parts]
        is_package = path.name == "__init__.py"
        if is_package:
            module.pop()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target_module, node, deferred, type_only in _imported_modules(tree, module, is_package):
            parts = target_module.split(".")
            if parts[0] != package_dir.name:
                continue
            target = parts[1] if len(parts) > 1 and parts[1] not in own_modules else PROJECT
            if target != source:
                where = str(path.relative_to(root))
                found.append(Import(source, target, where, node.lineno, deferred, type_only))
    return sorted(found)


def _imported_modules(
    tree: ast.Module, module: list[str], is_package: bool
) -> Iterator[tuple[str, ast.stmt, bool, bool]]:
    """(dotted module name, statement, inside a function, under TYPE_CHECKING) for each import,
    wherever it stands in the module."""
    package = module if is_package else module[:-1]

    def visit(
        node: ast.AST, deferred: bool, type_only: bool
    ) -> Iterator[tuple[str, ast.stmt, bool, bool]]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in _names(node, package):
                yield name, node, deferred, type_only
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                yield from visit(statement, deferred, True)
            for statement in node.orelse:
                yield from visit(statement, deferred, type_only)
        else:
            inner = deferred or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            for child in ast.iter_child_nodes(node):
                yield from visit(child, inner, type_only)

    yield from visit(tree, False, False)


def _names(node: ast.Import | ast.ImportFrom, package: list[str]) -> list[str]:
    """The modules one statement imports, relative imports resolved against `package`.

    `from X import name` gives `X.name` when X is a top-level package (`from opennrm import
    cases`), since the name is then an app or a module of it; otherwise X, whatever the names.
    """
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = package[: len(package) - node.level + 1] if node.level else []
    full = ".".join([*base, *([node.module] if node.module else [])])
    if "." not in full:
        return [f"{full}.{alias.name}" for alias in node.names]
    return [full]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def graph(found: Iterable[Import]) -> dict[tuple[str, str], list[Import]]:
    """The imports grouped by (source app, target app)."""
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for each in found:
        edges[each.source, each.target].append(each)
    return dict(sorted(edges.items()))


def domain_graph(edges: Graph) -> dict[tuple[str, str], Sequence[Import]]:
    """The edges between domain apps: the ones that may not form a cycle."""
    outside = INFRASTRUCTURE | {COMPOSITION, PROJECT}
    return {(a, b): v for (a, b), v in edges.items() if a not in outside and b not in outside}


def cycles(edges: Graph) -> list[list[str]]:
    """Cycles of the graph, each as a list of apps starting with its smallest name.

    Listing every elementary cycle can explode, so this lists, for each edge that lies on some
    cycle, the shortest cycle through it: every edge that must be looked at appears in at least
    one listed cycle, and there are never more cycles than edges.
    """
    following: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        following[a].add(b)
    found: set[tuple[str, ...]] = set()
    for a, b in edges:
        path = _shortest_path(following, b, a)
        if path is not None:
            cycle = [a, *path[:-1]]
            start = cycle.index(min(cycle))
            found.add(tuple(cycle[start:] + cycle[:start]))
    return [list(c) for c in sorted(found, key=lambda c: (len(c), c))]


def _shortest_path(following: Mapping[str, set[str]], start: str, end: str) -> list[str] | None:
    """Breadth-first: the apps from `start` to `end` inclusive, or None if there is no path."""
    came_from: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        if here == end:
            path: list[str] = []
            step: str | None = here
            while step is not None:
                path.append(step)
                step = came_from[step]
            return path[::-1]
        for there in sorted(following.get(here, ())):
            if there not in came_from:
                came_from[there] = here
                queue.append(there)
    return None


def problems(edges: Graph) -> list[str]:
    """What breaks the rules, as lines to print; empty when all is well."""
    lines: list[str] = []
    domain = domain_graph(edges)
    found = cycles(domain)
    if found:
        lines.append(f"{len(found)} import cycle(s) among the domain apps:")
        lines += ["  " + " -> ".join([*cycle, cycle[0]]) for cycle in found]
        lines.append("The imports on those cycles:")
        on_cycles = {(c[i], c[(i + 1) % len(c)]) for c in found for i in range(len(c))}
        lines += _edge_lines(domain, sorted(on_cycles))
    lib = [key for key in edges if key[0] == "lib"]
    if lib:
        lines.append("lib imports another app of the project (it may import none):")
        lines += _edge_lines(edges, lib)
    upward = [key for key in edges if key[1] in (COMPOSITION, PROJECT) and key[0] != PROJECT]
    if upward:
        lines.append(f"An app imports {COMPOSITION} or the project's own modules (none may):")
        lines += _edge_lines(edges, upward)
    return lines


def _edge_lines(edges: Graph, keys: Iterable[tuple[str, str]]) -> list[str]:
    lines = []
    for a, b in keys:
        sites = edges[a, b]
        lines.append(f"  {a} -> {b} ({len(sites)}):")
        lines += [f"      {each.where()}" for each in sites]
    return lines


def describe(edges: Graph) -> list[str]:
    """The graph as lines: each app's imports of other apps, with how many import statements."""
    lines = []
    for (a, b), sites in edges.items():
        notes = []
        if deferred := sum(s.deferred for s in sites):
            notes.append(f"{deferred} in a function")
        if type_only := sum(s.type_only for s in sites):
            notes.append(f"{type_only} type only")
        kind = " (infrastructure)" if b in INFRASTRUCTURE else ""
        extra = f"  [{', '.join(notes)}]" if notes else ""
        lines.append(f"  {a:<14} -> {b:<14} {len(sites):>4}{kind}{extra}")
    return lines


def main(argv: Sequence[str]) -> int:
    """Print the graph and what breaks the rules; exit 1 if anything does."""
    package_dir = Path(argv[0]) if argv else Path("src/opennrm")
    edges = graph(imports(package_dir, root=Path.cwd()))
    print("App-level imports (importing app -> imported app, import statements):")
    print("\n".join(describe(edges)))
    found = problems(edges)
    print("\n".join(found) if found else "No import cycle among the domain apps.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
