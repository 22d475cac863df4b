"""What a squad's route module needs to serve one feature behind the contract.

A route module in the squad's `<package>.routes` defines `router = APIRouter(prefix="/v1")`
and one operation per feature; `serve_feature` runs the feature (its declaration,
`squadkit.features.Feature`, the same code the evals run) under the service deadline and
turns the typed failures into the problem details `app.py` maps (RFC 9457).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar, overload

from fastapi import Depends, Header, Request
from pydantic import BaseModel

from ..errors import SquadError
from ..experiments import Assignment
from ..features import Feature
from ..gateway import DeadlineExceeded
from ..prompts import PromptNotFound
from ..prompts.labels import LABEL_PATTERN
from ..prompts.registry import assigned_versions
from .auth import require_label_override, require_scope
from .context import ServiceContext
from .guard import current_state, request_id_of
from .problems import (
    BODY_TOO_LARGE,
    DEADLINE_EXCEEDED,
    FORBIDDEN,
    INVALID_MODEL_OUTPUT,
    INVALID_REQUEST,
    PROVIDERS_UNAVAILABLE,
    TOO_MANY_REQUESTS,
    UNAUTHENTICATED,
    Problem,
    ProblemKind,
)

T = TypeVar("T")
InputT = TypeVar("InputT", bound=BaseModel)
OutputT = TypeVar("OutputT", bound=BaseModel)

DEADLINE_GRACE_S = 1.0
"""The route's own timeout backs up the gateway's deadline by this much."""


class UnknownLabel(Exception):
    """The X-Prompt-Label header names a label the prompt does not have; `known` are the
    labels it has (the caller may choose among them: it has `label-override`)."""

    def __init__(self, label: str, known: list[str]) -> None:
        super().__init__(label)
        self.label = label
        self.known = known


def problem_responses(*kinds: ProblemKind) -> dict[int | str, dict[str, Any]]:
    """`responses=` of an operation: each problem kind it can answer, for the contract."""
    return {kind.status: {"model": Problem, "description": kind.title} for kind in kinds}


FEATURE_PROBLEMS = problem_responses(
    UNAUTHENTICATED,
    FORBIDDEN,
    BODY_TOO_LARGE,
    INVALID_REQUEST,
    TOO_MANY_REQUESTS,
    INVALID_MODEL_OUTPUT,
    PROVIDERS_UNAVAILABLE,
    DEADLINE_EXCEEDED,
)
"""The problems any feature operation can answer: pass as `responses=FEATURE_PROBLEMS`
(an unknown X-Prompt-Label is a 422 too, under INVALID_REQUEST's entry)."""


def get_context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


async def _context(request: Request) -> ServiceContext:
    # An async dependency: FastAPI runs a plain `def` one in its thread pool, and handing
    # each request to a worker thread and back cost more than the rest of the request.
    return get_context(request)


Context = Annotated[ServiceContext, Depends(_context)]
"""A route parameter typed `Context` receives the process's `ServiceContext`."""

PromptLabel = Annotated[
    str | None,
    Header(
        alias="x-prompt-label",
        pattern=LABEL_PATTERN,
        description="Serve this prompt label instead of production (canaries); needs the "
        "caller's `label-override` scope, else 403. The pattern is the one every label of "
        "prompts/labels.yaml follows; a label the prompt does not have is 422 "
        "`unknown-prompt-label`.",
    ),
]
"""The optional `X-Prompt-Label` header of a feature operation: its contract pattern is
`LABEL_PATTERN`, the rule `labels.yaml` and `squad prompts promote` hold labels to."""


def request_id(request: Request) -> str:
    """The request id the guard assigned (echoed from X-Request-ID or generated)."""
    return request_id_of(request.scope)


@overload
async def serve_feature(
    feature: Feature[InputT, OutputT],
    request: Request | ServiceContext,
    inputs: InputT,
    /,
    *,
    label: str | None,
) -> OutputT: ...


@overload
async def serve_feature(
    feature: str,
    request: Request | ServiceContext,
    call: Callable[[float], Awaitable[T]],
    /,
    *,
    label: str | None,
) -> T: ...


async def serve_feature(
    feature: Feature[Any, Any] | str,
    request: Request | ServiceContext,
    inputs: Any,
    /,
    *,
    label: str | None,
) -> Any:
    """Run a declared feature on `inputs` (or, given a name, `await call(deadline_s)`) for
    the route's `request`, with its app's registry and gateway (`ServiceContext`), under the
    service deadline (`SQUAD_SERVICE_DEADLINE_S`).

    The context is taken from the request rather than from a `Context` dependency: FastAPI
    solving that dependency cost about 3% of a served request's instructions. A route that
    passes the `ServiceContext` itself (`context: Context`, as routes did before) still works.

    The caller must have the feature's name among its scopes and, to choose a `label`,
    `label-override` (else `Forbidden`, 403). A timeout becomes `DeadlineExceeded` (504); an
    unknown `label` from the header becomes `UnknownLabel` (422); a missing production
    label stays a 500: a deployment problem.

    With the inference log on (the default) the call gets an id, sent as `X-Inference-Id`
    and in a failure's problem details, and a row in the log, succeeded or not; the row is
    queued, never awaited (`inference_log.py`). A running experiment on the feature's
    prompt chooses the version (`_assign`); the answer names it in `X-Prompt-Version`.
    """
    context = request if isinstance(request, ServiceContext) else get_context(request)
    require_scope(feature.name if isinstance(feature, Feature) else feature)
    if label is not None:
        require_label_override()
    state = current_state.get() or {}
    call: Callable[[float], Awaitable[Any]]
    prompt = feature.prompt if isinstance(feature, Feature) else None
    assignment = None
    if isinstance(feature, Feature):
        name, declared = feature.name, feature
        call = lambda deadline_s: declared.run(  # noqa: E731 - the feature, with the context
            inputs,
            registry=context.registry,
            gateway=context.gateway,
            label=label,
            deadline_s=deadline_s,
        )
        assignment = _assign(feature.prompt, context, state, inputs, label)
    else:
        name, call = feature, inputs
    inference_log = context.inference_log
    if inference_log is None:
        if prompt is not None and "prompt_version" not in state:
            _label_version(prompt, context, state, label)
        return await _run(name, context, call, label, state, prompt=prompt)
    inference = inference_log.begin(
        name,
        request_id=str(state.get("request_id", "-")),
        caller=state.get("caller"),
        episode_id=state.get("episode_id"),
    )
    if assignment is not None:
        inference.experiment = assignment.experiment
        inference.arm = assignment.arm
        inference.forced = assignment.forced
    state["inference_id"] = inference.id
    result: Any = None
    outcome = "ok"
    try:
        with inference:
            result = await _run(name, context, call, label, state, prompt=prompt)
    except BaseException as error:
        outcome = type(error).__name__
        raise
    finally:
        if inference.completions and (answered := inference.completions[-1].prompt):
            state["prompt_version"] = f"{answered.name}@v{answered.version}"
        elif prompt is not None and "prompt_version" not in state:
            _label_version(prompt, context, state, label)  # no answer: the label's version
        inference_log.finish(
            inference,
            inputs=inputs if isinstance(feature, Feature) else None,
            output=result,
            answer=feature.answer_of if isinstance(feature, Feature) else None,
            outcome=outcome,
            label=label,
        )
    return result


def _assign(
    prompt: str, context: ServiceContext, state: dict[str, Any], inputs: Any, label: str | None
) -> Assignment | None:
    """The experiment's assignment of this request (`squadkit.experiments.assignment`), if
    one runs on `prompt`; the version it serves goes in `state` for `X-Prompt-Version` (the
    inference log replaces it with the version that answered). Without an assignment the
    header names the version that answered (`serve_feature`), or the one the label serves
    when none did: looked up only then, not for every request."""
    experiments = context.experiments
    if experiments is None:
        return None
    assignment = experiments.assign(
        prompt, label=label, inputs=inputs, episode_id=state.get("episode_id")
    )
    if assignment is None:
        return None
    _count(assignment)
    if assignment.version is not None:
        state["assigned"] = {(prompt, assignment.version.label): assignment.version}
        state["prompt_version"] = assignment.version.ident
    return assignment


def _label_version(
    prompt: str, context: ServiceContext, state: dict[str, Any], label: str | None
) -> None:
    """`X-Prompt-Version` of a request no answer named a version for: the label's version."""
    try:  # noqa: SIM105 - a plain try costs nothing; `suppress` builds an object per call
        state["prompt_version"] = context.registry.get(prompt, label=label).ident
    except SquadError:
        pass  # the feature's call raises it again (or raised it), as its problem


_ASSIGNMENTS: list[Any] = []
_ASSIGNMENT_COUNTERS: dict[tuple[str, str | None, bool], Any] = {}


def _count(assignment: Assignment) -> None:
    """`squad_experiment_assignments_total{experiment, arm, forced}`: whether traffic splits
    as the file says, between two reports (arm `-`: no subject key, served by the label).
    Each label set's child is kept: `labels()` per request cost more than the assignment."""
    key = (assignment.experiment, assignment.arm, assignment.forced)
    child = _ASSIGNMENT_COUNTERS.get(key)
    if child is None:
        if not _ASSIGNMENTS:
            from prometheus_client import Counter  # noqa: PLC0415 - the service's one boundary

            _ASSIGNMENTS.append(
                Counter(
                    "squad_experiment_assignments",
                    "Requests an online experiment assigned, by experiment, arm and forced.",
                    ["experiment", "arm", "forced"],
                )
            )
        forced = "true" if assignment.forced else "false"
        child = _ASSIGNMENTS[0].labels(assignment.experiment, assignment.arm or "-", forced)
        _ASSIGNMENT_COUNTERS[key] = child
    child.inc()


async def _run(
    name: str,
    context: ServiceContext,
    call: Callable[[float], Awaitable[Any]],
    label: str | None,
    state: dict[str, Any],
    *,
    prompt: str | None,
) -> Any:
    deadline = context.settings.service_deadline_s
    assigned = assigned_versions.set(state.get("assigned"))
    try:
        async with asyncio.timeout(deadline + DEADLINE_GRACE_S):
            return await call(deadline)
    except TimeoutError:
        raise DeadlineExceeded(name, deadline) from None
    except PromptNotFound:
        if label is None:
            raise
        known = sorted(context.registry.labels.labels_of(prompt)) if prompt else []
        raise UnknownLabel(label, known) from None
    finally:
        assigned_versions.reset(assigned)
