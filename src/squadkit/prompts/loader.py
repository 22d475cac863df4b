"""Read prompt version files into `PromptVersion`s, fast and with precise errors.

The happy path uses libyaml and caches each file by (mtime, size), so loading a registry of a
thousand versions stays well under a second and reloading it is nearly free. Only when a file
is invalid is it parsed again, slower, to name the line of the offending field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pydantic
from pydantic import ValidationError

from .. import json_schema
from ..errors import ConfigError
from ..files import REPORT_CAP, UnreadableFile, read_bytes, read_text
from ..yaml_lines import InvalidYaml, line_in_text, load_yaml
from .errors import Problem
from .hashing import content_hash
from .sandbox import sandbox
from .version import PromptSpec, PromptVersion

VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.yaml$")

_cache: dict[Path, tuple[tuple[int, int], PromptVersion]] = {}
_schema_ok: set[str] = set()  # JSON texts of schemas known to be valid

# Bump when validation rules change, so files validated by older rules are checked again.
_RULES = 2  # 2: a key given twice is refused
CACHE_DIR = ".cache"


class ValidatedCache:
    """Content hash -> fields and template variables of files that passed every check.

    Parsing YAML, checking JSON Schemas against the metaschema and parsing Jinja cost ~2 ms
    a file; identical bytes validate identically, so a file seen before costs a hash and
    a lookup. Kept in `prompts/.cache/` (git-ignored by its own .gitignore); any error
    reading or writing it just means a slower, fully checked load.
    """

    def __init__(self, prompts_dir: Path) -> None:
        self.path = prompts_dir / CACHE_DIR / "validated.json"
        self.fingerprint = f"{_RULES}:{version('jinja2')}:{pydantic.VERSION}"
        self.entries: dict[str, dict[str, Any]] = {}
        self.seen: set[str] = set()
        self.dirty = False
        try:
            data = json.loads(read_text(self.path, cap=REPORT_CAP))
            if data.get("fingerprint") == self.fingerprint:
                self.entries = dict(data["entries"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            self.dirty = True
        except ConfigError:  # too large or not a file: start afresh
            self.dirty = True

    def get(self, digest: str) -> dict[str, Any] | None:
        self.seen.add(digest)
        return self.entries.get(digest)

    def put(self, digest: str, data: dict[str, Any], variables: frozenset[str]) -> None:
        try:
            if json.loads(json.dumps(data)) != data:  # e.g. YAML dates: not cacheable as JSON
                return
        except (TypeError, ValueError):
            return
        self.entries[digest] = {"data": data, "variables": sorted(variables)}
        self.dirty = True

    def save(self) -> None:
        """Write the entries of the files seen in this scan (so the cache never grows stale)."""
        kept = {digest: entry for digest, entry in self.entries.items() if digest in self.seen}
        if not self.dirty and len(kept) == len(self.entries):
            return
        try:
            self.path.parent.mkdir(exist_ok=True)
            ignore = self.path.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text(
                    "# Created by the prompt registry: a cache, never commit it.\n*\n"
                )
            temporary = self.path.with_suffix(".tmp")
            payload = {"fingerprint": self.fingerprint, "entries": kept}
            temporary.write_text(json.dumps(payload, sort_keys=True), encoding="utf-8")
            temporary.replace(self.path)
        except OSError:
            return  # read-only checkout: stay correct, just slower next time


def clear_cache() -> None:
    """Forget in-process cached files and schemas (benchmarks measure a cold load with it)."""
    _cache.clear()
    _schema_ok.clear()


def load_version_file(
    path: Path, validated: ValidatedCache | None = None
) -> PromptVersion | Problem:
    """The version in `path`, or the first `Problem` that makes it unusable."""
    try:
        stat = path.stat()
    except OSError as error:
        return Problem(path, f"cannot read: {error.strerror}", kind="invalid")
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == key:
        if validated is not None:
            validated.seen.add(cached[1].content_hash)
        return cached[1]
    try:
        data_bytes = read_bytes(path)
    except UnreadableFile as error:
        return _invalid(path, error.reason)
    result = _parse(path, data_bytes, validated)
    if isinstance(result, PromptVersion):
        _cache[path] = (key, result)
    return result


def _parse(
    path: Path, data_bytes: bytes, validated: ValidatedCache | None
) -> PromptVersion | Problem:
    digest = content_hash(data_bytes)
    entry = validated.get(digest) if validated is not None else None
    if entry is not None:
        return _from_validated(path, digest, entry, data_bytes)
    try:
        text = data_bytes.decode("utf-8")
    except UnicodeDecodeError as error:
        return _invalid(path, f"not UTF-8 text (byte {error.start}); save the file as UTF-8")
    data = _read(path, text)
    if isinstance(data, Problem):
        return data
    spec = _spec(path, text, data)
    if isinstance(spec, Problem):
        return spec
    variables = _template_variables(path, text, spec)
    if isinstance(variables, Problem):
        return variables
    if validated is not None:
        validated.put(digest, data, variables)
    return PromptVersion(spec=spec, path=path, content_hash=digest, variables=variables)


def _from_validated(
    path: Path, digest: str, entry: dict[str, Any], data_bytes: bytes
) -> PromptVersion | Problem:
    """A version whose bytes passed every check before: only its place is checked again."""
    spec = PromptSpec.model_validate(entry["data"])
    problem = _path_problem(path, spec, lambda: data_bytes.decode("utf-8"))
    if problem is not None:
        return problem
    return PromptVersion(
        spec=spec, path=path, content_hash=digest, variables=frozenset(entry["variables"])
    )


def _invalid(path: Path, message: str, line: int | None = None) -> Problem:
    return Problem(path, message, line=line, kind="invalid")


def _read(path: Path, text: str) -> dict[str, Any] | Problem:
    try:
        data = load_yaml(text, path)
    except InvalidYaml as error:
        return _invalid(path, f"invalid YAML: {error.problem}", error.line)
    if data is None:
        return _invalid(
            path, "file is empty; a prompt version needs name, version, model and messages"
        )
    if not isinstance(data, dict):
        return _invalid(
            path,
            "expected a mapping of fields (name, version, model, ...), "
            f"not a {type(data).__name__}",
        )
    return data


def _spec(path: Path, text: str, data: dict[str, Any]) -> PromptSpec | Problem:
    """The validated fields, or why they are not valid (with the line when known)."""
    try:
        spec = PromptSpec.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(first["loc"])
        return _invalid(
            path, _describe_error(first["type"], loc, first["msg"]), line_in_text(text, loc)
        )
    problem = _path_problem(path, spec, lambda: text)
    if problem is not None:
        return problem
    for field in ("input_schema", "output_schema"):
        schema = getattr(spec, field)
        message = _schema_problem(field, schema) if schema is not None else None
        if message:
            return _invalid(path, message, line_in_text(text, (field,)))
    return spec


def _path_problem(path: Path, spec: PromptSpec, text: Callable[[], str]) -> Problem | None:
    """A file's name and version must match where it lives: `<name>/v<version>.yaml`."""
    if spec.name != path.parent.name:
        return _invalid(
            path,
            f"field 'name': '{spec.name}' does not match its folder '{path.parent.name}'",
            line_in_text(text(), ("name",)),
        )
    match = VERSION_FILE.match(path.name)
    if match is not None and int(match.group(1)) != spec.version:
        return _invalid(
            path,
            f"field 'version': {spec.version} does not match the file name {path.name}",
            line_in_text(text(), ("version",)),
        )
    return None


def _template_variables(path: Path, text: str, spec: PromptSpec) -> frozenset[str] | Problem:
    """The inputs the templates use; every template must parse and use declared inputs."""
    from jinja2 import TemplateSyntaxError, meta  # noqa: PLC0415 - not needed when cached

    variables: set[str] = set()
    declared = set((spec.input_schema or {}).get("properties", {}))
    for index, message in enumerate(spec.message_templates()):
        chat = spec.messages is not None
        loc: tuple[Any, ...] = ("messages", index, "content") if chat else ("template",)
        where = f"messages[{index}].content" if chat else "template"
        if not any(mark in message.content for mark in ("{{", "{%", "{#")):
            continue  # plain text: nothing to parse (system messages usually are)
        try:
            ast = sandbox().parse(message.content)
        except TemplateSyntaxError as error:
            return _invalid(
                path,
                f"{where}: template syntax error on its line {error.lineno}: {error.message}",
                line_in_text(text, loc),
            )
        used = meta.find_undeclared_variables(ast)
        unknown = sorted(used - declared) if spec.input_schema is not None else []
        if unknown:
            return _invalid(
                path,
                f"{where}: uses '{unknown[0]}', which input_schema does not declare; "
                "add it to input_schema.properties or fix the name",
                line_in_text(text, loc),
            )
        variables |= used
    return frozenset(variables)


def _schema_problem(field: str, schema: dict[str, Any]) -> str | None:
    """Why `schema` is not a usable JSON Schema (draft 2020-12), or None."""
    found = _schema_error(schema, ())
    if found is not None:
        at, message = found
        where = f" at '{'.'.join(at)}'" if at else ""
        message = " ".join(message.split())
        if len(message) > 120:
            message = message[:117] + "..."
        return f"{field}: not a valid JSON Schema{where}: {message}"
    if field == "input_schema" and schema.get("type") != "object":
        return "input_schema: must have 'type: object' (inputs are named values)"
    return None


# Keywords whose value maps names to subschemas. Each subschema is checked on its own and
# memoized by value: checking against the 2020-12 metaschema costs ~2 ms a schema, and
# versions of a prompt share almost all of theirs.
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")


def _schema_error(schema: Any, at: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    key = json.dumps(schema, sort_keys=True, default=str)
    if key in _schema_ok:
        return None
    shallow = schema
    if isinstance(schema, dict):
        shallow = dict(schema)
        for keyword in _SUBSCHEMA_MAPS:
            children = schema.get(keyword)
            if isinstance(children, dict) and all(
                isinstance(child, dict | bool) for child in children.values()
            ):
                for name, child in children.items():
                    found = _schema_error(child, (*at, keyword, str(name)))
                    if found is not None:
                        return found
                shallow[keyword] = dict.fromkeys(children, True)
    shallow_key = json.dumps(shallow, sort_keys=True, default=str)
    if shallow_key not in _schema_ok:
        error = json_schema.best_error(json_schema.metaschema_validator(), shallow)
        if error is not None:
            return (*at, *(str(part) for part in error.absolute_path)), error.message
        _schema_ok.add(shallow_key)
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
