"""What the service wires once at start-up and every request shares."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..features import served_prompts
from ..gateway import Deployment, Gateway, ModelsConfig, load_models_config
from ..observability import GenAIObserver, setup_observability, shutdown_observability
from ..prompts import PromptRegistry, check_prompts
from ..prompts.labels import LABEL_ENV_PREFIX
from ..settings import Settings

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 1.0
DEGRADED = "degraded"
"""A check that starts with this still passes: the service answers, from a fallback."""


@dataclass
class ServiceContext:
    """Settings, models config, prompt registry, gateway and observer, built once per process."""

    settings: Settings
    models: ModelsConfig
    registry: PromptRegistry
    gateway: Gateway
    observer: GenAIObserver

    @classmethod
    def start(cls, settings: Settings) -> ServiceContext:
        """Load and validate everything; any `ConfigError` stops the start-up."""
        models = load_models_config(settings.models_file)
        registry = PromptRegistry.load(settings.prompts_dir)
        observer = setup_observability(settings, prometheus=True)
        gateway = Gateway.from_settings(settings, observer=observer)
        gateway.warm_up()
        return cls(
            settings=settings, models=models, registry=registry, gateway=gateway, observer=observer
        )

    def close(self) -> None:
        """Flush telemetry exporters (after uvicorn has finished in-flight requests)."""
        shutdown_observability()

    @property
    def retry_after_s(self) -> int:
        """What a 503 tells callers: when cooled-down deployments are tried again."""
        return max(1, round(self.models.routing.cooldown_s))

    async def cooled_down(self) -> dict[str, list[str]]:
        """Alias -> the pinned models litellm has cooled down now (`Gateway.cooled_down`).

        Reading it also sets the degraded gauge of every alias: 1 while the alias's first
        deployment is among them, else 0. `/metrics` reads it before each scrape and
        `/readyz` on each probe, so the gauge is as fresh as the last of the two (OTLP
        exports included).
        """
        down = await self.gateway.cooled_down()
        for name, alias in self.models.aliases.items():
            models = down.get(name, [])
            primary = alias.deployments[0].model
            self.observer.on_degraded(name, bool(models) and models[0] == primary)
        return down

    async def readiness(self) -> dict[str, str]:
        """Each check's name -> 'ok' or a short reason; details of failures go to the log."""
        checks: dict[str, str] = {}
        try:
            models = await asyncio.to_thread(load_models_config, self.settings.models_file)
            checks["models_config"] = "ok"
        except Exception as error:  # any failure means not ready
            log.warning("readiness: models config: %s", error)
            checks["models_config"] = "invalid"
            models = self.models
        evidence_dir = self.settings.evals_dir / "evidence"
        try:
            # Eval evidence is the merge gate's business (`make prompts-check`), not whether
            # this process can serve: only files, lock and labels count here.
            problems = [
                str(problem)
                for problem in await asyncio.to_thread(
                    check_prompts,
                    self.settings.prompts_dir,
                    models=models,
                    evidence_dir=evidence_dir,
                    root=self.settings.root,
                    served=served_prompts(self.registry.label_overrides),
                )
                if not problem.path.is_relative_to(evidence_dir)
            ]
        except Exception as error:  # any failure means not ready
            problems = [str(error)]
        for problem in problems:
            log.warning("readiness: prompts: %s", problem)
        checks["prompts"] = "ok" if not problems else f"{len(problems)} problem(s)"
        for name, label in sorted(self.registry.label_overrides.items()):
            # A pinned label this process cannot serve fails every request for the prompt.
            served = name in self.registry.names() and self.registry.labels.version_for(name, label)
            checks[f"pin:{name}"] = "ok" if served else f"no label '{label}' of '{name}'"
            if not served:
                log.warning(
                    "readiness: %s%s=%s names no label of prompt '%s'",
                    LABEL_ENV_PREFIX,
                    name.upper(),
                    label,
                    name,
                )
        for name, alias in sorted(models.aliases.items()):
            results = await asyncio.gather(*(_deployment_ready(d) for d in alias.deployments))
            checks[f"alias:{name}"] = "ok" if any(results) else "no deployment reachable"
        for name, down in sorted((await self.cooled_down()).items()):
            if checks.get(f"alias:{name}") == "ok":
                # Still serving, from a later link of the chain: ready, but say so.
                checks[f"alias:{name}"] = f"{DEGRADED}: {', '.join(down)} cooled down"
                log.warning("readiness: alias %s degraded: %s cooled down", name, down)
        return checks


async def _deployment_ready(deployment: Deployment) -> bool:
    """Offline deployments are always ready; others need their key and, when they name an
    `api_base`, a TCP connection to it within PROBE_TIMEOUT_S (no request is sent)."""
    if deployment.is_local:
        return True
    if deployment.missing_key():
        return False
    if not deployment.api_base:
        return True  # a provider's public endpoint: probing it per /readyz is not our call
    url = urlsplit(deployment.api_base)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(url.hostname, port), PROBE_TIMEOUT_S
        )
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True
