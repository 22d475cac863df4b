"""Who may call the service: `config/callers.yaml`, one entry per calling system.

    callers:
      core-platform:
        token_sha256: 9f86d081...   # written by `squad callers add`; the token is never stored
        scopes: [triage, feedback]
        revoked: false              # true (or deleting the entry) locks the caller out

Tokens are 256 random bits (`secrets.token_urlsafe(32)`), so a plain SHA-256 of one is
enough to store: a slow password hash protects guessable secrets, and nobody can guess or
brute-force 256 random bits from their digest. A presented token is hashed and compared
with every caller's digest by `hmac.compare_digest`, so the time taken says nothing about
how much of a digest matched. The file holds no secret and is committed like any config.

Scopes: a feature's name (call that feature), `feedback`, `label-override` (send
`X-Prompt-Label`), `metrics` (`/metrics`) and `docs` (`/docs`, `/openapi.json`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import atomic_write, display_path, read_text
from ..yaml_lines import load_yaml, read_team_yaml

FEEDBACK = "feedback"
LABEL_OVERRIDE = "label-override"
METRICS = "metrics"
DOCS = "docs"
SERVICE_SCOPES = (FEEDBACK, LABEL_OVERRIDE, METRICS, DOCS)
"""The scopes every service has; each feature's name is a scope too."""

TOKEN_PREFIX = "sqd_"  # noqa: S105 - a prefix, not a secret
"""Marks a token as this service's, so secret scanners and humans recognise a leaked one."""

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_HEADER = """\
# Who may call the service: one entry per calling system (squad-owned; README "Service").
# Add one with `squad callers add NAME --scope FEATURE [--scope ...]`: it prints the token
# once; only its SHA-256 is kept here. Revoke with `revoked: true` or by deleting the entry.
# Scopes: a feature's name, feedback, label-override, metrics, docs.
"""


@dataclass(frozen=True)
class Caller:
    """One calling system: its name, the digest of its token, what it may do."""

    name: str
    token_sha256: str
    scopes: frozenset[str]
    revoked: bool = False

    def may(self, scope: str) -> bool:
        return scope in self.scopes


def hash_token(token: str) -> str:
    """The hex SHA-256 of `token`: what the callers file stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh token: 256 random bits, URL-safe, with the recognisable prefix."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def find_caller(callers: Iterable[Caller], token: str) -> Caller | None:
    """The caller whose digest matches `token` (revoked ones included), else None.

    Every digest is compared, in constant time each, whatever matched first.
    """
    digest = hash_token(token)
    found = None
    for caller in callers:
        if hmac.compare_digest(caller.token_sha256, digest):
            found = caller
    return found


def load_callers(path: Path) -> list[Caller]:
    """The callers `path` declares; a missing file declares none (every call is refused)."""
    if not path.exists():
        return []
    where = display_path(path)
    data = read_team_yaml(
        path, unreadable=lambda error: f"cannot read the callers file ({error})"
    ).data
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {"callers"}:
        raise ConfigError(f"{where}: expected one mapping `callers:` of name -> caller")
    entries = data.get("callers") or {}
    if not isinstance(entries, dict):
        raise ConfigError(f"{where}: `callers` must map each caller's name to its entry")
    return [_caller(where, name, entry) for name, entry in entries.items()]


def check_scopes(path: Path, callers: Iterable[Caller], known_scopes: Iterable[str]) -> None:
    """Refuse a caller granted a scope no route checks (a misspelt feature, say): the
    caller would get 403 where its owner expects answers, with nothing saying why."""
    known = set(known_scopes)
    for caller in callers:
        unknown = sorted(caller.scopes - known)
        if unknown:
            raise ConfigError(
                f"{display_path(path)}: caller '{caller.name}': unknown scope '{unknown[0]}'; "
                f"known scopes: {', '.join(sorted(known))}"
            )


def _caller(where: str, name: Any, entry: Any) -> Caller:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"{where}: caller name {name!r} must be lower-case letters, digits, '.', '_', '-'"
        )
    if not isinstance(entry, dict) or set(entry) - {"token_sha256", "scopes", "revoked"}:
        raise ConfigError(
            f"{where}: caller '{name}' needs only `token_sha256`, `scopes` and `revoked`"
        )
    digest = entry.get("token_sha256")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise ConfigError(
            f"{where}: caller '{name}': token_sha256 must be 64 hex digits; "
            "create callers with `squad callers add`"
        )
    scopes = entry.get("scopes") or []
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ConfigError(f"{where}: caller '{name}': scopes must be a list of names")
    revoked = entry.get("revoked", False)
    if not isinstance(revoked, bool):
        raise ConfigError(f"{where}: caller '{name}': revoked must be true or false")
    return Caller(name, digest, frozenset(scopes), revoked)


def add_caller(path: Path, name: str, scopes: list[str], known_scopes: Iterable[str]) -> str:
    """Declare caller `name` with `scopes` in `path` (written atomically); return its token.

    An unknown scope, a bad or taken name is a `ConfigError` and leaves the file unchanged.
    """
    known = set(known_scopes)
    unknown = [scope for scope in scopes if scope not in known]
    if unknown:
        raise ConfigError(f"unknown scope '{unknown[0]}'; known scopes: {', '.join(sorted(known))}")
    if not scopes:
        raise ConfigError("give at least one --scope (a feature, feedback, label-override, ...)")
    if not _NAME.match(name):
        raise ConfigError(
            f"caller name '{name}' must be lower-case letters, digits, '.', '_', '-' (at most 64)"
        )
    existing = load_callers(path)
    if any(caller.name == name for caller in existing):
        raise ConfigError(
            f"{display_path(path)}: caller '{name}' exists; delete its entry to replace it"
        )
    token = new_token()
    caller = Caller(name, hash_token(token), frozenset(scopes))
    atomic_write(path, _appended(path, existing, caller, scopes))
    return token


def _appended(path: Path, existing: list[Caller], caller: Caller, scopes: list[str]) -> str:
    """The file's text with `caller` added: appended under the existing `callers:` block,
    so the squad's comments stay, when the result reads back as exactly the old callers
    plus the new one; otherwise the whole file rendered anew."""
    entry = render_callers([caller], ordered={caller.name: scopes}).split("callers:\n", 1)[1]
    if existing and path.exists():
        text = read_text(path)
        candidate = text + ("" if text.endswith("\n") else "\n") + entry
        try:
            if load_yaml(candidate, path) and _read_back(candidate, path) == [*existing, caller]:
                return candidate
        except ConfigError:
            pass  # an unusual layout (flow style, ...): render it
    return render_callers([*existing, caller], ordered={caller.name: scopes})


def _read_back(text: str, path: Path) -> list[Caller]:
    data = load_yaml(text, path)
    entries = data.get("callers") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return []
    return [_caller(str(path), name, entry) for name, entry in entries.items()]


def revoke_caller(path: Path, name: str) -> None:
    """Mark caller `name` revoked in `path` (written atomically)."""
    callers = load_callers(path)
    if not any(caller.name == name for caller in callers):
        raise ConfigError(f"{display_path(path)}: no caller '{name}'")
    atomic_write(
        path,
        render_callers(
            [Caller(c.name, c.token_sha256, c.scopes, c.revoked or c.name == name) for c in callers]
        ),
    )


def render_callers(callers: list[Caller], ordered: Mapping[str, list[str]] | None = None) -> str:
    """The file's text: the explaining header, then each caller (scopes in the given order
    for `ordered` names, sorted otherwise)."""
    ordered = ordered or {}
    lines = [_HEADER.rstrip("\n"), "callers:" if callers else "callers: {}"]
    for caller in callers:
        scopes = ordered.get(caller.name) or sorted(caller.scopes)
        lines += [
            f"  {caller.name}:",
            f"    token_sha256: {caller.token_sha256}",
            f"    scopes: [{', '.join(scopes)}]",
            f"    revoked: {'true' if caller.revoked else 'false'}",
        ]
    return "\n".join(lines) + "\n"
