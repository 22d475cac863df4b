"""`squadkit.evals`'s lazy surface: one mapping, nothing imported until a name is used."""

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

from squadkit import evals

INIT = Path(evals.__file__)


def test_importing_evals_imports_none_of_its_submodules() -> None:
    code = (
        "import sys\n"
        "import squadkit.evals\n"
        "print(sorted(m for m in sys.modules if m.startswith('squadkit.evals.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_every_exported_name_comes_from_the_submodule_that_defines_it() -> None:
    for name in evals.__all__:
        module = importlib.import_module(f"squadkit.evals.{evals._LAZY[name]}")
        exported = getattr(evals, name)
        assert exported is getattr(module, name)
        if inspect.isclass(exported) or inspect.isfunction(exported):
            assert exported.__module__ == module.__name__, name


def test_type_checking_imports_name_exactly_the_lazy_exports() -> None:
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    imported = {
        alias.name: (node.module or "")
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }

    assert imported == evals._LAZY
