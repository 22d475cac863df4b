"""Read prompt version files into `PromptVersion`s, fast and with precise errors.

The happy path uses libyaml and caches each file by (mtime, size), so loading a registry of a
thousand versions stays well under a second and reloading it is nearly free. Only when a file
is invalid is it parsed again, slower, to name the line of the offending field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateSyntaxError, meta
from pydantic import ValidationError

from .errors import Problem
from .hashing import content_hash
from .version import SANDBOX, PromptSpec, PromptVersion

VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.yaml$")

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_cache: dict[Path, tuple[tuple[int, int], PromptVersion]] = {}
_schema_ok: set[str] = set()


def load_version_file(path: Path) -> PromptVersion | Problem:
    """The version in `path`, or the first `Problem` that makes it unusable."""
    try:
        stat = path.stat()
    except OSError as error:
        return Problem(path, f"cannot read: {error.strerror}", kind="invalid")
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    result = _parse(path)
    if isinstance(result, PromptVersion):
        _cache[path] = (key, result)
    return result


def _parse(path: Path) -> PromptVersion | Problem:  # noqa: PLR0911 - one exit per failure kind
    def invalid(message: str, line: int | None = None) -> Problem:
        return Problem(path, message, line=line, kind="invalid")

    data_bytes = path.read_bytes()
    try:
        text = data_bytes.decode("utf-8")
    except UnicodeDecodeError as error:
        return invalid(f"not UTF-8 text (byte {error.start}); save the file as UTF-8")
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader (libyaml or pure)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "cannot be parsed"
        return invalid(f"invalid YAML: {problem}", mark.line + 1 if mark is not None else None)
    if data is None:
        return invalid("file is empty; a prompt version needs name, version, model and messages")
    if not isinstance(data, dict):
        return invalid(
            f"expected a mapping of fields (name, version, model, ...), "
            f"not a {type(data).__name__}"
        )
    try:
        spec = PromptSpec.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(first["loc"])
        return invalid(_describe_error(first["type"], loc, first["msg"]), _line_of(text, loc))

    match = VERSION_FILE.match(path.name)
    if spec.name != path.parent.name:
        return invalid(
            f"field 'name': '{spec.name}' does not match its folder '{path.parent.name}'",
            _line_of(text, ("name",)),
        )
    if match is not None and int(match.group(1)) != spec.version:
        return invalid(
            f"field 'version': {spec.version} does not match the file name {path.name}",
            _line_of(text, ("version",)),
        )
    for field in ("input_schema", "output_schema"):
        schema = getattr(spec, field)
        if schema is not None:
            message = _schema_problem(field, schema)
            if message:
                return invalid(message, _line_of(text, (field,)))

    variables: set[str] = set()
    for index, message_template in enumerate(spec.message_templates()):
        loc: tuple[Any, ...] = (
            ("messages", index, "content") if spec.messages is not None else ("template",)
        )
        where = "template" if spec.messages is None else f"messages[{index}].content"
        try:
            ast = SANDBOX.parse(message_template.content)
        except TemplateSyntaxError as error:
            return invalid(
                f"{where}: template syntax error on its line {error.lineno}: {error.message}",
                _line_of(text, loc),
            )
        used = meta.find_undeclared_variables(ast)
        if spec.input_schema is not None:
            declared = set(spec.input_schema.get("properties", {}))
            unknown = sorted(used - declared)
            if unknown:
                return invalid(
                    f"{where}: uses '{unknown[0]}', which input_schema does not declare; "
                    "add it to input_schema.properties or fix the name",
                    _line_of(text, loc),
                )
        variables |= used
    return PromptVersion(
        spec=spec,
        path=path,
        content_hash=content_hash(data_bytes),
        variables=frozenset(variables),
    )


def _schema_problem(field: str, schema: dict[str, Any]) -> str | None:
    """Why `schema` is not a usable JSON Schema, or None. Valid schemas are cached by value."""
    key = json.dumps(schema, sort_keys=True, default=str)
    if key in _schema_ok:
        return None
    from jsonschema import Draft202012Validator  # noqa: PLC0415
    from jsonschema.exceptions import SchemaError  # noqa: PLC0415

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = ".".join(str(part) for part in error.absolute_path)
        at = f" at '{where}'" if where else ""
        message = " ".join(error.message.split())
        if len(message) > 120:
            message = message[:117] + "..."
        return f"{field}: not a valid JSON Schema{at}: {message}"
    if field == "input_schema" and schema.get("type") != "object":
        return "input_schema: must have 'type: object' (inputs are named values)"
    _schema_ok.add(key)
    return None


def _describe_error(kind: str, loc: tuple[Any, ...], message: str) -> str:
    path = _dotted(loc)
    if kind == "missing":
        return f"missing required field '{path}'"
    if kind == "extra_forbidden":
        return f"unknown field '{path}'; check its spelling"
    if not path:
        return message
    return f"field '{path}': {message}"


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not str(part).startswith(("function-", "literal[")):
            text += ("." if text else "") + str(part)
    return text


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node `loc` reaches (best effort, error path only)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
