"""`contracts/openapi.json`: write it from the app, check it, and refuse breaking changes.

    python -m <package>.service.contract check   # exit 1 when the app and the file differ
    python -m <package>.service.contract write   # regenerate; exit 1 on a breaking change

A breaking change to an existing path version (an operation or response field removed, a
new required request field, a request value no longer accepted, a response value the
platform has never seen) is refused: add the changed operation under a new path version
(`/v2/...`) and keep the old one until the platform has moved.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..files import atomic_write, read_text

CONTRACT_FILE = Path("contracts") / "openapi.json"
METHODS = ("get", "put", "post", "delete", "patch")


def render(document: dict[str, Any]) -> str:
    """The file's canonical text: stable key order, so diffs show only real changes."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every change from `old` to `new` that could break a client of `old`."""
    problems: list[str] = []
    for path, old_item in old.get("paths", {}).items():
        new_item = new.get("paths", {}).get(path, {})
        for method in METHODS:
            if method not in old_item:
                continue
            where = f"{method.upper()} {path}"
            if method not in new_item:
                problems.append(f"{where}: operation removed")
                continue
            before, after = old_item[method], new_item[method]
            problems += _compare(
                where + " request",
                _schema(old, _request_schema(before)),
                _schema(new, _request_schema(after)),
                old,
                new,
                request=True,
            )
            for status, response in before.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                if status not in after.get("responses", {}):
                    problems.append(f"{where}: response {status} removed")
                    continue
                problems += _compare(
                    f"{where} response {status}",
                    _schema(old, _response_schema(response)),
                    _schema(new, _response_schema(after["responses"][status])),
                    old,
                    new,
                    request=False,
                )
    return problems


def _request_schema(operation: dict[str, Any]) -> dict[str, Any]:
    content = operation.get("requestBody", {}).get("content", {})
    return dict(content.get("application/json", {}).get("schema", {}))


def _response_schema(response: dict[str, Any]) -> dict[str, Any]:
    return dict(response.get("content", {}).get("application/json", {}).get("schema", {}))


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with a top-level `$ref` resolved against the document's components."""
    seen = 0
    while "$ref" in schema and seen < 20:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        schema = dict(document.get("components", {}).get("schemas", {}).get(name, {}))
        seen += 1
    return schema


def _compare(
    where: str,
    before: dict[str, Any],
    after: dict[str, Any],
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    request: bool,
) -> list[str]:
    problems: list[str] = []
    old_enum, new_enum = set(before.get("enum", [])), set(after.get("enum", []))
    if old_enum or new_enum:
        if request and old_enum - new_enum:
            problems.append(f"{where}: no longer accepts {sorted(old_enum - new_enum)}")
        if not request and new_enum - old_enum:
            problems.append(f"{where}: may now return {sorted(new_enum - old_enum)}")
    if before.get("type") != after.get("type") and "type" in before:
        problems.append(f"{where}: type {before.get('type')} -> {after.get('type')}")
    old_props = before.get("properties", {})
    new_props = after.get("properties", {})
    old_required, new_required = set(before.get("required", [])), set(after.get("required", []))
    for name, schema in old_props.items():
        if name not in new_props:
            problems.append(f"{where}: field '{name}' removed")
            continue
        if not request and name in old_required and name not in new_required:
            problems.append(f"{where}: field '{name}' no longer always present")
        problems += _compare(
            f"{where}.{name}",
            _schema(old, schema),
            _schema(new, new_props[name]),
            old,
            new,
            request=request,
        )
    if request:
        for name in sorted(new_required - old_required):
            problems.append(f"{where}: new required field '{name}'")
    return problems


def main(argv: list[str] | None = None) -> int:
    """`check` or `write` the contract file of the repo in the current directory."""
    args = sys.argv[1:] if argv is None else argv
    if args not in (["check"], ["write"]):
        print("usage: python -m <package>.service.contract check|write", file=sys.stderr)
        return 2
    from . import openapi_document  # noqa: PLC0415 - builds the app (imports FastAPI)

    current = openapi_document()
    path = CONTRACT_FILE
    committed = json.loads(read_text(path)) if path.exists() else None
    breaking = breaking_changes(committed, current) if committed else []
    if args == ["check"]:
        if committed is None:
            print(f"error: {path} is missing; run `make contract`", file=sys.stderr)
            return 1
        if render(committed) != render(current):
            print(
                f"error: {path} differs from the app's schema; run `make contract` and commit "
                "the result" + (f" (breaking: {'; '.join(breaking)})" if breaking else ""),
                file=sys.stderr,
            )
            return 1
        print(f"{path}: matches the app")
        return 0
    if breaking:
        print(f"error: breaking change to {path}:", file=sys.stderr)
        for problem in breaking:
            print(f"  {problem}", file=sys.stderr)
        print(
            "add the changed operation under a new path version (/v2/...) instead", file=sys.stderr
        )
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, render(current))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
