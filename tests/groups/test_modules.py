"""The rules of groups are one module per job, and each name is used from its own module."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GROUPS = ROOT / "groups"
# The modules that hold the rules, one job each (models, forms, views and api excepted).
RULES = ("permissions", "series", "enrollment", "eligibility", "attendance", "services")
SKIPPED = {".venv", "migrations", "node_modules", ".git"}


def defined_names(module: str) -> set[str]:
    """The names a rule module defines itself, not those it imports."""
    tree = ast.parse((GROUPS / f"{module}.py").read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {name.id for target in node.targets for name in ast.walk(target)
                      if isinstance(name, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def python_files():
    """Every Python file of the project, tests and tools included."""
    for path in sorted(ROOT.rglob("*.py")):
        if not SKIPPED & set(path.relative_to(ROOT).parts):
            yield path


def uses_of_rules(tree: ast.AST):
    """(module, name, line) for each rule name a file reaches, through
    ``from groups.X import name`` or ``from groups import X as alias``
    and ``alias.name``."""
    aliases = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.module == "groups":
            aliases.update({item.asname or item.name: item.name for item in node.names
                            if item.name in RULES})
        elif node.module and node.module.startswith("groups.") \
                and node.module.split(".")[1] in RULES:
            for item in node.names:
                yield node.module.split(".")[1], item.name, node.lineno
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in aliases:
            yield aliases[node.value.id], node.attr, node.lineno


def test_the_rules_are_split_by_job():
    modules = {path.stem for path in GROUPS.glob("*.py")}
    assert set(RULES) <= modules
    # Every rule module is found by the checks below: nothing holds rules unseen.
    assert modules - set(RULES) == {"__init__", "models", "forms", "views", "api", "signals"}


@pytest.mark.parametrize("path", sorted(GROUPS.glob("*.py")), ids=lambda path: path.name)
def test_each_module_opens_with_a_one_line_summary(path):
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring, path.name
    summary = docstring.splitlines()[0]
    assert summary.endswith("."), summary
    assert len(docstring.splitlines()) == 1 or docstring.splitlines()[1] == "", summary


def test_every_use_of_a_rule_reaches_it_in_the_module_that_defines_it():
    defined = {module: defined_names(module) for module in RULES}
    wrong = []
    for path in python_files():
        for module, name, line in uses_of_rules(ast.parse(path.read_text())):
            if name not in defined[module]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} groups.{module}.{name}")
    assert wrong == []


def test_the_check_sees_a_name_reached_through_the_wrong_module():
    tree = ast.parse("from groups import services as group_services\n"
                     "group_services.enroll(None)\n"
                     "from groups.services import withdraw\n")
    defined = defined_names("services")
    assert {(name, line) for module, name, line in uses_of_rules(tree)
            if name not in defined} == {("enroll", 2), ("withdraw", 3)}


@pytest.mark.parametrize("path", sorted(GROUPS.glob("*.py")), ids=lambda path: path.name)
def test_the_roster_lock_is_taken_in_the_enrollment_module_only(path):
    """Every change of seats goes through ``groups.enrollment``, which locks the
    roster first; the column itself is declared in the models."""
    mentions = "roster_version" in path.read_text()
    assert mentions == (path.stem in ("enrollment", "models"))
