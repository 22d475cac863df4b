"""How squadkit finds the squad's own code: one entry point names the squad's package.

A squad repo declares its package once, in the template-owned `pyproject.toml`:

    [project.entry-points."squadkit.squad"]
    acme_support = "acme_support"

and from then on adds features by adding files, never by editing squadkit or a registry:

- `<package>.offline` (a module or a package of modules): each module may define
  `LOCAL_MODELS = {"name-v1": answer}`, offline `local/name-v1` models answered by
  `answer(messages) -> dict` (the JSON the model returns).
- `<package>.features` (a module or a package of modules): each module may define
  `FEATURE`, a `squadkit.features.Feature` the service routes and the eval suites name.
- `<package>.routes` (service only): each module defines `router`, a FastAPI `APIRouter`
  the service includes.

`SQUAD_PACKAGE=<import name>` overrides the entry point (squadkit's own tests use it).
Lookups are cached per process: the squad's code does not change while it runs.
"""

from __future__ import annotations

import functools
import importlib
import os
import pkgutil
import re
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from .features import Feature

ENTRY_POINT_GROUP = "squadkit.squad"
PACKAGE_ENV = "SQUAD_PACKAGE"

LocalModel = Callable[[list[dict[str, Any]]], dict[str, Any]]
"""An offline model: the call's messages in, the answer's JSON object out."""


def squad_package() -> str | None:
    """The squad's import name: `SQUAD_PACKAGE`, else the one `squadkit.squad` entry point."""
    return _squad_package(os.environ.get(PACKAGE_ENV) or None)


_IMPORT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


@functools.cache
def _squad_package(named: str | None) -> str | None:
    if named:
        if len(named) > 200 or not _IMPORT_NAME.fullmatch(named):
            raise ConfigError(
                f"{PACKAGE_ENV}={named!r}: not a Python import name (letters, digits and "
                "underscores, dotted); set it to the squad's package, or unset it to use the "
                f"'{ENTRY_POINT_GROUP}' entry point"
            )
        return named
    found = sorted({point.value for point in entry_points(group=ENTRY_POINT_GROUP)})
    if len(found) > 1:
        raise ConfigError(
            f"more than one package declares a '{ENTRY_POINT_GROUP}' entry point "
            f"({', '.join(found)}); install one squad per environment or set {PACKAGE_ENV}"
        )
    return found[0] if found else None


def squad_modules(kind: str) -> list[ModuleType]:
    """`<package>.<kind>` and, when it is a package, every module in it (sorted by name)."""
    return list(_squad_modules(squad_package(), kind))


@functools.cache
def _squad_modules(package: str | None, kind: str) -> tuple[ModuleType, ...]:
    if package is None:
        return ()
    name = f"{package}.{kind}"
    try:
        parent = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name == package:
            raise ConfigError(
                f"the squad's package '{package}' cannot be imported (named by "
                f"{PACKAGE_ENV} or the '{ENTRY_POINT_GROUP}' entry point); run `uv sync` "
                "or fix the name"
            ) from None
        if error.name == name:
            return ()
        raise
    modules = [parent]
    if hasattr(parent, "__path__"):
        for info in sorted(pkgutil.iter_modules(parent.__path__), key=lambda i: i.name):
            modules.append(importlib.import_module(f"{name}.{info.name}"))
    return tuple(modules)


def squad_local_models() -> Mapping[str, LocalModel]:
    """Every `LOCAL_MODELS` entry of the squad's `offline` modules (duplicates refused)."""
    found: dict[str, LocalModel] = {}
    for module in squad_modules("offline"):
        declared: Mapping[str, LocalModel] = getattr(module, "LOCAL_MODELS", {})
        for name, model in declared.items():
            if name in found:
                raise ConfigError(
                    f"{module.__name__}: local model '{name}' is declared twice in the "
                    "squad's offline modules; rename one"
                )
            found[name] = model
    return found


def squad_features() -> Mapping[str, Feature[Any, Any]]:
    """Every `FEATURE` of the squad's `features` modules, by name (a name used twice refused).

    A package's `__init__` may re-export a module's `FEATURE`: the same object is one feature.
    """
    from .features import Feature  # noqa: PLC0415 - no import cycle

    found: dict[str, Feature[Any, Any]] = {}
    for module in squad_modules("features"):
        declared = getattr(module, "FEATURE", None)
        if declared is None:
            continue
        if not isinstance(declared, Feature):
            raise ConfigError(
                f"{module.__name__}: FEATURE is a {type(declared).__name__}, not a "
                "squadkit.features.Feature; declare it with Feature(name=..., ...)"
            )
        if found.get(declared.name, declared) is not declared:
            raise ConfigError(
                f"{module.__name__}: feature '{declared.name}' is declared twice in the "
                "squad's features modules; rename one"
            )
        found[declared.name] = declared
    return found
