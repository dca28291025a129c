"""Every import in the application runs one way, down the layers the README draws.

The test reads each application module's syntax tree (imports inside functions
included) and fails on an import of a package at the same or a higher layer, naming
the module and line of each, so a wrong arrow is found when it is written rather than
as a circular import later.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first; a package may import only from the layers below its own. Packages
# that share a layer are siblings and may not import each other, except in the
# foundation, where the extensions are built on core's base model and core's
# modules use the extensions.
LAYERS = (
    ("core", "config", "extensions"),
    ("accounts",),
    ("families",),
    ("groups",),
    ("calendars",),
    ("matching", "reminders"),
    ("reports",),
    ("casework",),
    ("admin",),
)
FOUNDATION = 0
LAYER_OF = {package: level for level, packages in enumerate(LAYERS) for package in packages}

# The entry points wire everything together and may import anything.
ENTRY_POINTS = {"app", "demo"}

# Not application code: the suite, schema migrations, benchmark scripts, tooling.
NOT_APPLICATION = {"tests", "migrations", "benchmarks", "node_modules", "instance"}


def application_modules():
    """Every application module as (dotted name, path), entry points included."""
    modules = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if any(part.startswith(".") or part in NOT_APPLICATION for part in parts):
            continue
        dotted = ".".join(parts)[: -len(".py")]
        modules.append((dotted.removesuffix(".__init__"), path))
    return modules


def imported_modules(dotted, path):
    """Every module ``path`` imports, at any depth of its tree, as (name, line)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = dotted.split(".")[:-1] if path.name != "__init__.py" else dotted.split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            yield name, node.lineno


def offending_imports():
    """Each import against the order, as "module:line imports target (why)"."""
    offences = []
    for dotted, path in application_modules():
        top = dotted.split(".")[0]
        if top in ENTRY_POINTS:
            continue
        own_layer = LAYER_OF[top]
        for name, line in imported_modules(dotted, path):
            target = name.split(".")[0]
            if target == top or target not in LAYER_OF and target not in ENTRY_POINTS:
                continue
            if target in ENTRY_POINTS or LAYER_OF[target] > own_layer or (
                    LAYER_OF[target] == own_layer and own_layer != FOUNDATION):
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return offences


def test_every_application_package_has_a_layer():
    """A new top-level package or module must be placed in the order before use."""
    unplaced = sorted({dotted.split(".")[0] for dotted, _ in application_modules()}
                      - set(LAYER_OF) - ENTRY_POINTS)
    assert unplaced == []


def test_imports_run_down_the_layers():
    """No application module imports a sibling, a higher layer, or an entry point."""
    assert offending_imports() == []


@pytest.mark.parametrize(("source", "allowed"), [
    ("from core import clock\n", True),
    ("def f():\n    from reports import services\n", False),
    ("import matching.scoring\n", False),
    ("from . import services\n", True),
    ("from app import create_app\n", False),
])
def test_the_check_sees_imports_at_any_depth(tmp_path, monkeypatch, source, allowed):
    """The check reads imports inside functions, relative imports and entry points."""
    package = tmp_path / "reminders"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "probe.py").write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert (offending_imports() == []) is allowed


def private_imports():
    """Each import of a private name from another package, as "module:line imports name"."""
    offences = []
    for dotted, path in application_modules():
        top = dotted.split(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level or node.module is None:
                continue
            target = node.module.split(".")[0]
            if target == top or target not in LAYER_OF and target not in ENTRY_POINTS:
                continue
            offences += [f"{path.relative_to(ROOT)}:{node.lineno} imports "
                         f"{node.module}.{alias.name}"
                         for alias in node.names if alias.name.startswith("_")]
    return offences


def test_no_package_imports_another_packages_private_names():
    """What one package shares with another is public and documented, not an _underscore."""
    assert private_imports() == []


@pytest.mark.parametrize(("source", "allowed"), [
    ("from calendars.views import _checked\n", False),
    ("def f():\n    from groups.views import _venue_names\n", False),
    ("from calendars.views import checked\n", True),
    ("from reminders.services import _own\n", True),
    ("from . import _own\n", True),
    ("from flask_babel import lazy_gettext as _l\n", True),
])
def test_the_private_check_sees_names_across_packages(tmp_path, monkeypatch, source, allowed):
    """A private name from another package is refused, its own package's and an alias are not."""
    package = tmp_path / "reminders"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "probe.py").write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert (private_imports() == []) is allowed
