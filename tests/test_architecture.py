"""The shape of the package, checked: layers import downwards only, no import cycles, small files
and functions. These are the rules a contributor reads in the README; here they cannot rot.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import grimp
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "salesagent"

# Lower layers never import higher ones. Each line may import anything on the lines below it.
LAYERS = [
    ["cli", "demo"],
    ["services"],
    ["console"],
    ["pipeline"],
    ["llm", "notify"],
    ["dialog", "transport", "speech"],
    ["clinic"],
    ["config", "logs", "clock", "security"],
]

# Known long functions outside the per-call engine, each to be split when next touched. The
# engine (pipeline, transport) and the speech stack hold the line with no exceptions.
LONG_FUNCTIONS_ALLOWED = {
    ("dialog/extract/measures.py", "extract_measures"),
    ("dialog/extract/rules.py", "_extract"),
    ("services/tts_gateway.py", "create_app"),
    ("services/asr_gateway.py", "create_app"),
    ("services/dialog_api.py", "create_app"),
    ("services/app.py", "create_voice_app"),
}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("salesagent", exclude_type_checking_imports=True)


def test_layers_import_downwards_only(graph) -> None:
    top = {m.split(".")[1] for m in graph.modules if m.count(".") >= 1}
    assert top == {p for layer in LAYERS for p in layer}, "every top-level package belongs to a layer"
    upward = []
    for i, layer in enumerate(LAYERS):
        higher = [p for above in LAYERS[:i] for p in above]
        for low, high in itertools.product(layer, higher):
            if graph.chain_exists(importer=f"salesagent.{low}", imported=f"salesagent.{high}", as_packages=True):
                chain = graph.find_shortest_chain(importer=f"salesagent.{low}", imported=f"salesagent.{high}",
                                                  as_packages=True)
                upward.append(" -> ".join(chain or (low, high)))
    assert upward == []


def test_no_import_cycles_between_siblings(graph) -> None:
    """At every level: two modules (or packages) of one package never import each other."""
    modules = graph.modules
    parents = {m.rsplit(".", 1)[0] for m in modules if "." in m}
    cycles = []
    for parent in sorted(parents):
        children = sorted(m for m in modules if m.rsplit(".", 1)[0] == parent and m != parent)
        for a, b in itertools.combinations(children, 2):
            if graph.chain_exists(importer=a, imported=b, as_packages=True) and graph.chain_exists(
                importer=b, imported=a, as_packages=True
            ):
                cycles.append((a, b))
    assert cycles == []


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_file_over_400_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in _sources() if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_no_function_over_60_lines() -> None:
    long = set()
    for path in _sources():
        rel = str(path.relative_to(PACKAGE))
        for node in ast.walk(ast.parse(path.read_text())):
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and node.end_lineno - node.lineno + 1 > 60:
                long.add((rel, node.name))
    assert long - LONG_FUNCTIONS_ALLOWED == set(), "split it, or say why in LONG_FUNCTIONS_ALLOWED"
    assert LONG_FUNCTIONS_ALLOWED - long == set(), "already split: take it off the allowance"
