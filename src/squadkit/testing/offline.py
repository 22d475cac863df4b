"""A squad's tests answer offline, whatever provider keys the environment holds.

`offline_models_file` writes a copy of `config/models.yaml` in which every alias keeps only
its `local/...` deployments. A test session that points `SQUAD_MODELS_FILE` at it can never
reach a paid provider, and a key exported in the shell cannot change what a test sees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from ..files import read_text

LOCAL_PREFIX = "local/"


def offline_models_file(source: Path, destination: Path) -> Path:
    """Write `source` with only the offline deployments of each alias to `destination`."""
    data: Any = yaml.safe_load(read_text(source))
    aliases = data.get("aliases") if isinstance(data, dict) else None
    if not isinstance(aliases, dict):
        raise ConfigError(f"{source}: no 'aliases' mapping to take the offline models from")
    for name, alias in aliases.items():
        deployments = alias.get("deployments", []) if isinstance(alias, dict) else []
        local = [
            d
            for d in deployments
            if isinstance(d, dict) and str(d.get("model", "")).startswith(LOCAL_PREFIX)
        ]
        if not local:
            raise ConfigError(
                f"{source}: alias '{name}' has no {LOCAL_PREFIX}... deployment, so offline "
                "tests cannot answer it; end its chain with an offline model"
            )
        alias["deployments"] = local
    destination.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return destination
