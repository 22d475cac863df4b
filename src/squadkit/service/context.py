"""What the service wires once at start-up and every request shares."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from ..errors import ConfigError, SquadError
from ..experiments import ExperimentsFile
from ..features import served_prompts
from ..gateway import Gateway, ModelsConfig, load_models_config
from ..inferences import FeedbackConfig, load_feedback_config
from ..observability import GenAIObserver, setup_observability, shutdown_observability
from ..prompts import PromptRegistry, check_prompts
from ..prompts.labels import LABEL_ENV_PREFIX
from ..settings import Settings
from .guardrails import GuardrailMonitor
from .inference_log import CapturingObserver, InferenceLog, register_metrics

log = logging.getLogger(__name__)

READINESS_BUDGET_S = 0.5
"""How long /readyz waits for its file checks or the shared cooldown state (Redis) before
answering with the last result it has: a probe must answer within 1 s even while the
event loop is busy with an outage."""
DEGRADED = "degraded"
"""A check that starts with this is not a failure: the service answers, from a later link
of the chain. /readyz answers 503 `degraded` for it unless configured to accept it."""


def served_aliases(registry: PromptRegistry, models: ModelsConfig) -> set[str]:
    """The model aliases the squad's features call: each served prompt version's `model`.

    A squad that declares no feature (routes calling `serve_feature` by name) serves
    whatever its routes call: every alias of `models` then counts as served.
    """
    aliases = set()
    for served in served_prompts(registry.label_overrides):
        try:
            aliases.add(registry.get(served.prompt, label=served.label).model)
        except SquadError:
            continue  # an unservable prompt is the readiness check's and the pins' business
    from ..plugins import squad_features  # noqa: PLC0415 - the squad's package, imported once

    return aliases if squad_features() else set(models.aliases)


def offline_only_aliases(models: ModelsConfig, aliases: set[str]) -> list[str]:
    """One line per alias of `aliases` whose chain names provider deployments but can only
    be answered offline now: every provider deployment's key is missing."""
    found = []
    for name in sorted(aliases & set(models.aliases)):
        providers = [d for d in models.aliases[name].deployments if not d.is_local]
        if providers and all(d.missing_key() for d in providers):
            keys = ", ".join(sorted({str(d.api_key_env) for d in providers}))
            found.append(
                f"model alias '{name}' would be answered only by its offline last resort: "
                f"{keys} not set (put it in the environment or .env, or set "
                "SQUAD_SERVICE_ALLOW_OFFLINE_ONLY=true to serve degraded answers)"
            )
    return found


def refuse_offline_only(settings: Settings, models: ModelsConfig, registry: PromptRegistry) -> None:
    """`ConfigError` when a served chain can only be answered offline, unless the settings
    allow it: then a loud warning, once per start."""
    problems = offline_only_aliases(models, served_aliases(registry, models))
    if not problems:
        return
    if not settings.service_allow_offline_only:
        raise ConfigError(problems[0])
    for problem in problems:
        log.warning(
            "SERVING DEGRADED (SQUAD_SERVICE_ALLOW_OFFLINE_ONLY=true): %s; every answer will "
            "have fallback_used: true",
            problem,
        )


@dataclass
class ServiceContext:
    """Settings, models config, prompt registry, gateway and observer, built once per process."""

    settings: Settings
    models: ModelsConfig
    registry: PromptRegistry
    gateway: Gateway
    observer: GenAIObserver
    served: set[str] = field(default_factory=set)
    inference_log: InferenceLog | None = None
    feedback: FeedbackConfig = field(default_factory=FeedbackConfig)
    experiments: ExperimentsFile | None = None
    guardrails: GuardrailMonitor | None = None
    """Halts experiment arms whose guardrail broke (needs the inference log)."""
    _file_checks: dict[str, str] = field(default_factory=dict)
    _file_task: asyncio.Task[dict[str, str]] | None = None

    @classmethod
    def start(cls, settings: Settings) -> ServiceContext:
        """Load and validate everything; any `ConfigError` stops the start-up."""
        models = load_models_config(settings.models_file)
        registry = PromptRegistry.load(settings.prompts_dir)
        feedback = load_feedback_config(settings.config_dir / "feedback.yaml")
        experiments = ExperimentsFile(settings.config_dir / "experiments.yaml", registry)
        refuse_offline_only(settings, models, registry)
        observer = setup_observability(settings, prometheus=True)
        inference_log = None
        if settings.inference_log_enabled:
            inference_log = InferenceLog(settings)
            register_metrics()
        gateway = Gateway.from_settings(
            settings, observer=CapturingObserver(observer) if inference_log else observer
        )
        gateway.warm_up()
        guardrails = None
        if inference_log is not None:
            guardrails = GuardrailMonitor(
                experiments, inference_log.writer.store, settings.experiments_guardrail_check_s
            )
        return cls(
            settings=settings,
            models=models,
            registry=registry,
            gateway=gateway,
            observer=observer,
            served=served_aliases(registry, models),
            inference_log=inference_log,
            feedback=feedback,
            experiments=experiments,
            guardrails=guardrails,
        )

    def close(self) -> None:
        """Write the queued inference log rows and flush telemetry exporters (after uvicorn
        has finished in-flight requests, so after SIGTERM nothing is lost)."""
        if self.inference_log is not None:
            self.inference_log.close()
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
        """Each check's name -> 'ok', 'degraded: ...' or a short reason; details go to the log.

        No provider is called or connected to: whether a deployment can answer is read from
        its key and litellm's cooldowns, which the real traffic keeps current. So a probe
        during an outage costs what it costs at any other time.
        """
        checks = await self._bounded_file_checks()
        models = self.models
        for name, alias in sorted(models.aliases.items()):
            usable = [d for d in alias.deployments if d.is_local or not d.missing_key()]
            first = alias.deployments[0]
            if not usable:
                keys = ", ".join(sorted({str(d.api_key_env) for d in alias.deployments}))
                checks[f"alias:{name}"] = f"no usable deployment: {keys} not set"
            elif usable[0] is not first and name in self.served:
                checks[f"alias:{name}"] = (
                    f"{DEGRADED}: {first.model} skipped ({first.api_key_env} not set); "
                    f"{usable[0].model} answers"
                )
            else:
                checks[f"alias:{name}"] = "ok"
        try:
            down = await asyncio.wait_for(self.cooled_down(), READINESS_BUDGET_S)
        except TimeoutError:
            log.warning("readiness: cooldown state not read within %ss", READINESS_BUDGET_S)
            down = {}
        for name, models_down in sorted(down.items()):
            if checks.get(f"alias:{name}") == "ok" and name in self.served:
                checks[f"alias:{name}"] = f"{DEGRADED}: {', '.join(models_down)} cooled down"
        if self.guardrails is not None:
            checks.update(self.guardrails.readiness())
        for name, status in checks.items():
            if status.startswith(DEGRADED):
                log.warning("readiness: %s %s", name, status)
        return checks

    async def _bounded_file_checks(self) -> dict[str, str]:
        """The file checks, or their last result when they take longer than the budget
        (they go on in the background and the next probe gets theirs)."""
        if self._file_task is None or self._file_task.done():
            self._file_task = asyncio.ensure_future(asyncio.to_thread(self._file_checks_now))
        try:
            self._file_checks = await asyncio.wait_for(
                asyncio.shield(self._file_task), READINESS_BUDGET_S
            )
        except TimeoutError:
            log.warning("readiness: file checks still running; answering with the last ones")
        return dict(self._file_checks or {"files": "not checked yet"})

    def _file_checks_now(self) -> dict[str, str]:
        """Models config, prompts, lock, labels and pins, as `squad prompts check` sees them."""
        checks: dict[str, str] = {}
        try:
            models = load_models_config(self.settings.models_file)
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
                for problem in check_prompts(
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
        experiments = self.experiments.problem() if self.experiments is not None else None
        if experiments is not None:
            log.warning("readiness: experiments: %s", experiments)
        checks["experiments"] = "ok" if experiments is None else "invalid: every experiment stopped"
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
        return checks
