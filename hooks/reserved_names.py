"""Derive the package names a render must refuse and write them where Copier's validator reads.

A squad's package is imported by its own name, so a name that is already a module breaks the
render in ways found only later: `package_name=yaml` renders, `make setup` succeeds, then the
gate finds no features because `import yaml` finds PyYAML. The refused names are derived, not
kept by hand:

- Python's keywords (soft ones too) and standard library (`sys.stdlib_module_names` and
  what the interpreter's library folder holds, such as `test`);
- the top-level import names of every distribution in this repository's `uv.lock` (the
  library's dependencies and the render's dev tools: a superset of what a render installs),
  read from the installed distributions' metadata (`make bootstrap` installs them all), or
  the normalised distribution name for one that is not installed here;
- the render's own top-level names (`src`, `tests`, `features`, `conftest`...).

Copier's validators are Jinja and cannot import a module the template ships (a Jinja
extension would have to be installed beside Copier), so this script writes the result to
`hooks/reserved_names.jinja`, which the `package_name` validator imports;
`tests/template/test_answers.py` fails when the file misses a name this derivation refuses.

    .venv/bin/python hooks/reserved_names.py          # rewrite hooks/reserved_names.jinja
    .venv/bin/python hooks/reserved_names.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import importlib.metadata
import keyword
import pkgutil
import re
import sys
import sysconfig
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "hooks" / "reserved_names.jinja"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
JINJA_CONDITION = re.compile(r"\{%.*?%\}")


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _top_level_names(distribution: str) -> set[str]:
    """The names `distribution` installs at the top of site-packages."""
    try:
        found = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return {_normalised(distribution).replace("-", "_")}
    listed = found.read_text("top_level.txt")
    if listed:
        return {line.strip() for line in listed.splitlines() if line.strip()}
    names = set()
    for file in found.files or ():
        first = file.parts[0]
        if first.endswith((".dist-info", ".data")) or first in ("..", "__pycache__"):
            continue
        if len(file.parts) == 1:
            if first.endswith(".py"):
                names.add(first[: -len(".py")])
            elif first.endswith((".so", ".pyd")):
                names.add(first.split(".", 1)[0])
            continue
        names.add(first)
    names = {name for name in names if not name.startswith("__editable__")}
    return names or {_normalised(distribution).replace("-", "_")}  # e.g. an editable install


def dependency_names() -> dict[str, str]:
    """Import name -> the distribution of `uv.lock` that installs it."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for package in sorted(lock.get("package", []), key=lambda p: str(p["name"])):
        for name in sorted(_top_level_names(package["name"])):
            names.setdefault(name.lower(), package["name"])
    return names


def render_names() -> set[str]:
    """Top-level folders and modules of a render, and the subpackages of its package."""
    template = ROOT / "template"
    found = set()
    for folder in (template, template / "tests", template / "src" / "{{package_name}}"):
        for entry in folder.iterdir():
            name = JINJA_CONDITION.sub("", entry.name).removesuffix(".jinja")
            found.add(name.removesuffix(".py") if entry.is_file() else name)
    return found


def reserved() -> dict[str, str]:
    """Every refused name -> why, in the words of the validator's message."""
    reasons: dict[str, str] = {}
    for name in sorted(render_names()):
        reasons[name] = "a folder or module of the rendered repository"
    for name, distribution in sorted(dependency_names().items()):
        reasons[name] = f"imported from {distribution}, a dependency of the render"
    stdlib = {module.name for module in pkgutil.iter_modules([sysconfig.get_paths()["stdlib"]])}
    for name in sorted(stdlib | set(sys.stdlib_module_names)):
        reasons[name] = "a standard-library module"
    for name in (*keyword.kwlist, *keyword.softkwlist):
        reasons[name.lower()] = "a Python keyword"
    return {name: reasons[name] for name in sorted(reasons) if IDENTIFIER.match(name)}


def render() -> str:
    lines = [
        "{#- Written by hooks/reserved_names.py (its docstring says why); do not edit by hand.",
        f"    Python {sys.version_info.major}.{sys.version_info.minor}'s standard library, "
        "uv.lock's distributions' import names, the render's own names. -#}",
        "{%- set reserved = {",
        *(f'    "{name}": "{why}",' for name, why in reserved().items()),
        "} -%}",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    text = render()
    if sys.argv[1:] == ["--check"]:
        # Every name derived here must be refused; names the file holds beyond them (another
        # Python's standard library, a dependency since dropped) only refuse more.
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        missing = sorted(set(reserved()) - set(re.findall(r'^    "([^"]+)": ', current, re.M)))
        if missing:
            print(
                f"error: {OUTPUT.relative_to(ROOT)} does not refuse {', '.join(missing[:10])}"
                f"{' ...' if len(missing) > 10 else ''}; run "
                "`.venv/bin/python hooks/reserved_names.py` and commit the result",
                file=sys.stderr,
            )
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"{OUTPUT.relative_to(ROOT)}: {text.count(chr(10)) - 4} names")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
