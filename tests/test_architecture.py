"""The dependency direction of docs/design.md holds: no cycles, pure rules, services below the web.

An ``ast`` walk over src/anshin (every ``import`` and ``from ... import``,
function-local ones too: a lazy import is still a dependency). Domain packages
must not import each other in a cycle: a lower package gets what it needs from
its caller (data, or a hook named or registered by the higher package, like
``notify.tasks.SWEEP_HOOKS`` and ``incidents.page.PUBLISHERS``). A ``rules.py``
is pure (no SQLAlchemy, no use-case or interface module); a ``service.py``
never reaches up into the API, pages or CLI.

The checker is tested on small fake graphs too, so it cannot pass vacuously.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "anshin"

# Packages that are not domains: the web layer and the CLI compose every
# domain (they are the top), migrations read every table, i18n is shared.
NOT_DOMAINS = frozenset({"web", "migrations", "i18n"})

# Module names of the interface and use-case rooms (docs/design.md "rooms").
INTERFACE_MODULES = ("api", "views", "cli")
INTERFACE_SUFFIXES = tuple(f"_{name}" for name in INTERFACE_MODULES)


def domains(src: Path = SRC) -> list[str]:
    """Every package under src/anshin that is a domain (has an ``__init__.py``)."""
    return sorted(
        p.name
        for p in src.iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name not in NOT_DOMAINS
    )


def module_name(path: Path, src: Path = SRC) -> str:
    """``anshin.comms.rules`` for src/anshin/comms/rules.py."""
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, src: Path = SRC) -> list[tuple[str, int]]:
    """Every module a file imports, with its line, relative imports resolved.

    ``from anshin.comms import rules`` counts as ``anshin.comms.rules`` (the
    name may be a module); ``anshin.comms`` itself is imported too, which is
    the same package either way.
    """
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    here = module_name(path, src)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, node.lineno))
            found.extend((f"{base}.{alias.name}", node.lineno) for alias in node.names)
    return found


def package_graph(src: Path = SRC) -> dict[str, dict[str, list[str]]]:
    """``graph[a][b]``: where domain ``a`` imports domain ``b`` (file:line)."""
    known = set(domains(src))
    graph: dict[str, dict[str, list[str]]] = {name: {} for name in known}
    for path in sorted(src.rglob("*.py")):
        parts = path.relative_to(src).parts
        if len(parts) < 2 or parts[0] not in known:
            continue
        for imported, line in imported_modules(path, src):
            target = imported.split(".")
            if len(target) < 2 or target[0] != "anshin" or target[1] not in known:
                continue
            if target[1] == parts[0]:
                continue
            where = f"{path.relative_to(src)}:{line}"
            places = graph[parts[0]].setdefault(target[1], [])
            if where not in places:
                places.append(where)
    return graph


def find_cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of packages, as a path ``[a, b, ..., a]``.

    Tarjan's algorithm finds the groups; within each, a breadth-first search
    from its smallest member back to itself gives a shortest cycle to name.
    """
    graph = {node: sorted(set(targets)) for node, targets in edges.items()}
    for targets in list(graph.values()):
        for target in targets:
            graph.setdefault(target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)

    cycles = []
    for group in sorted(groups):
        members = set(group)
        start = group[0]
        previous: dict[str, str] = {}
        queue = [start]
        end = None
        while queue and end is None:
            node = queue.pop(0)
            for target in graph[node]:
                if target not in members:
                    continue
                if target == start:
                    end = node
                    break
                if target not in previous:
                    previous[target] = node
                    queue.append(target)
        assert end is not None
        path = [start]
        node = end
        while node != start:
            path.insert(1, node)
            node = previous[node]
        cycles.append([*path, start])
    return cycles


def describe(cycle: list[str], graph: Mapping[str, Mapping[str, list[str]]]) -> str:
    """``comms -> incidents (comms/context.py:38) -> comms (incidents/notices.py:33)``."""
    text = cycle[0]
    for a, b in itertools.pairwise(cycle):
        where = graph.get(a, {}).get(b, [])
        text += f" -> {b}" + (f" ({where[0]})" if where else "")
    return text


def is_interface(module: str) -> bool:
    """An API, page or CLI module (``anshin.x.views``, ``anshin.x.compose_views``...)."""
    last = module.rpartition(".")[2]
    return last in INTERFACE_MODULES or last.endswith(INTERFACE_SUFFIXES)


def room_violations(src: Path = SRC) -> list[str]:
    """Every ``rules.py`` that is not pure and every ``service.py`` that reaches up."""
    found: dict[str, str] = {}  # one finding per import statement
    for path in sorted(src.rglob("*.py")):
        if path.name not in ("rules.py", "service.py"):
            continue
        for imported, line in imported_modules(path, src):
            where = f"{path.relative_to(src)}:{line}"
            top = imported.split(".")[0]
            if path.name == "rules.py" and top == "sqlalchemy":
                found.setdefault(where, f"imports {imported} (rules are pure: no SQLAlchemy)")
            elif top == "anshin" and is_interface(imported):
                found.setdefault(where, f"imports {imported} (an API, page or CLI module)")
            elif (
                path.name == "rules.py"
                and top == "anshin"
                and imported.rpartition(".")[2] == "service"
            ):
                found.setdefault(where, f"imports {imported} (rules are pure: no service)")
    return [f"{where} {what}" for where, what in found.items()]


# --- the project ----------------------------------------------------------------


def test_the_walk_sees_the_known_edges() -> None:
    """The walk finds imports that exist, so an empty answer would mean something."""
    graph = package_graph()
    assert {"comms", "components", "incidents", "notify", "statuspage", "team"} <= set(graph)
    assert "comms" in graph["incidents"]  # incidents composes with comms
    assert "incidents" in graph["statuspage"]  # the page reads incidents
    assert "components" in graph["notify"]  # subscribers choose components


def test_no_cycle_between_domain_packages() -> None:
    graph = package_graph()
    edges = {a: list(targets) for a, targets in graph.items()}
    cycles = [describe(c, graph) for c in find_cycles(edges)]
    assert not cycles, "domain packages import each other in a cycle: " + "; ".join(cycles)


def test_rules_are_pure_and_services_stay_below_the_web() -> None:
    assert room_violations() == []


# --- the checker itself -----------------------------------------------------------


def test_a_cycle_in_a_fake_graph_is_found_and_named() -> None:
    edges = {
        "team": [],
        "notify": ["team", "comms"],
        "comms": ["team"],
        "incidents": ["comms", "notify"],
        "statuspage": ["incidents"],
    }
    assert find_cycles(edges) == []
    edges["comms"] = ["team", "incidents"]  # the cycle this work broke
    assert find_cycles(edges) == [["comms", "incidents", "comms"]]
    edges["comms"] = ["team"]
    edges["team"] = ["statuspage"]  # a longer one, through the bottom
    assert find_cycles(edges) == [["comms", "team", "statuspage", "incidents", "comms"]]
    graph = {"comms": {"incidents": ["comms/context.py:38"]}, "incidents": {"comms": []}}
    assert describe(["comms", "incidents", "comms"], graph) == (
        "comms -> incidents (comms/context.py:38) -> comms"
    )


def test_a_cycle_written_into_fake_source_fails_the_walk(tmp_path: Path) -> None:
    src = tmp_path / "anshin"
    for package in ("low", "high", "web"):
        (src / package).mkdir(parents=True)
        (src / package / "__init__.py").write_text("")
    (src / "high" / "service.py").write_text("from anshin.low import rules\n")
    (src / "low" / "rules.py").write_text("import datetime\n")
    (src / "web" / "views.py").write_text("from anshin.high import service\n")
    assert find_cycles(package_graph(src)) == []
    (src / "low" / "service.py").write_text(
        "def later():\n    from anshin.high.service import x  # a lazy import counts\n"
    )
    graph = package_graph(src)
    assert graph["low"] == {"high": ["low/service.py:2"]}
    assert find_cycles(graph) == [["high", "low", "high"]]


def test_impure_rules_and_services_reaching_up_are_found(tmp_path: Path) -> None:
    src = tmp_path / "anshin"
    (src / "x").mkdir(parents=True)
    (src / "x" / "__init__.py").write_text("")
    (src / "x" / "rules.py").write_text("import datetime\nfrom anshin.x import kinds\n")
    (src / "x" / "service.py").write_text("from anshin.x import rules\n")
    assert room_violations(src) == []
    (src / "x" / "rules.py").write_text(
        "from sqlalchemy import select\nfrom anshin.x import service\nfrom . import views\n"
    )
    (src / "x" / "service.py").write_text("from anshin.x.compose_views import page\n")
    assert room_violations(src) == [
        "x/rules.py:1 imports sqlalchemy (rules are pure: no SQLAlchemy)",
        "x/rules.py:2 imports anshin.x.service (rules are pure: no service)",
        "x/rules.py:3 imports anshin.x.views (an API, page or CLI module)",
        "x/service.py:1 imports anshin.x.compose_views (an API, page or CLI module)",
    ]
