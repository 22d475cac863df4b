"""One prompt version: its validated spec, its content hash and sandboxed rendering.

Templates render in squadkit's sandbox (`sandbox.py`: no Python internals, no missing
variables, bounded output), and any failure is one `PromptRenderError` naming the file and
message. Inputs are validated
against the prompt's `input_schema` before any template runs, so a bad call fails before it
costs a model call.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from .. import json_schema
from ..calls import PromptRef, RenderedPrompt
from .errors import PromptInputError
from .sandbox import count_rendered, render_budget, render_message, sandbox

if TYPE_CHECKING:
    import jinja2
    from jsonschema.protocols import Validator


PROMPT_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
_JINJA_STARTS = ("{{", "{%", "{#")  # the sandbox's delimiters (it has no line statements)


class MessageTemplate(BaseModel):
    """One chat message: a role and a Jinja2 template for its content."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1)


class PromptSpec(BaseModel):
    """The fields of `prompts/<name>/v<N>.yaml`.

    A chat prompt has `messages`; a single-text prompt has `template`, rendered as one user
    message. `model` is a gateway alias from `config/models.yaml`, never a provider model.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=PROMPT_NAME_PATTERN)
    version: Annotated[int, Strict()] = Field(ge=1)
    description: str = Field(min_length=1)
    model: str = Field(min_length=1, description="Gateway alias from config/models.yaml.")
    params: dict[str, Any] = Field(default_factory=dict)
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    messages: list[MessageTemplate] | None = Field(default=None, min_length=1)
    template: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _messages_or_template(self) -> PromptSpec:
        if (self.messages is None) == (self.template is None):
            raise ValueError(
                "give exactly one of 'messages' (a chat prompt) or 'template' (a single text)"
            )
        return self

    def message_templates(self) -> list[MessageTemplate]:
        if self.messages is not None:
            return list(self.messages)
        return [MessageTemplate(role="user", content=self.template or "")]


@dataclass(frozen=True)
class PromptVersion:
    """One immutable version of a prompt, as loaded from its file.

    `label` is set when the version was fetched through a label (`registry.get(name,
    label=...)`), so the rendered prompt records which label served it.
    """

    spec: PromptSpec
    path: Path
    content_hash: str
    variables: frozenset[str]
    label: str | None = None
    _compiled: dict[int, jinja2.Template] = field(default_factory=dict, compare=False, repr=False)
    # The text of each message with no Jinja syntax at all (no "{{", "{%" or "{#"): the same for
    # any inputs, so rendered once (a render builds a Jinja context: most of its cost).
    _constant: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> int:
        return self.spec.version

    @property
    def model(self) -> str:
        return self.spec.model

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def ref(self) -> PromptRef:
        """This version's identity, as completions, traces and reports name it."""
        return PromptRef(
            name=self.name, version=self.version, label=self.label, content_hash=self.content_hash
        )

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.spec.params)

    @property
    def input_schema(self) -> dict[str, Any] | None:
        return self.spec.input_schema

    @property
    def output_schema(self) -> dict[str, Any] | None:
        return self.spec.output_schema

    @property
    def ident(self) -> str:
        """`name@vN`, how messages name a version."""
        return f"{self.name}@v{self.version}"

    def with_label(self, label: str | None) -> PromptVersion:
        return replace(self, label=label)

    def with_model(self, alias: str) -> PromptVersion:
        """This version answered through another model alias (an experiment's arm): the
        same messages and content hash, so its evidence must name `alias` to count."""
        if alias == self.spec.model:
            return self
        return replace(self, spec=self.spec.model_copy(update={"model": alias}))

    @cached_property
    def _input_validator(self) -> Validator | None:
        if self.spec.input_schema is None:
            return None
        return json_schema.validator(self.spec.input_schema)  # jsonschema only when rendering

    def validate_inputs(self, inputs: dict[str, Any]) -> None:
        """Raise `PromptInputError` naming the first missing, extra or wrong-typed input."""
        if not isinstance(inputs, dict):
            raise PromptInputError(
                f"{self.ident}: inputs must be a mapping of names to values, "
                f"not {type(inputs).__name__}"
            )
        declared = self._declared_inputs
        extra = sorted(set(inputs) - declared)
        if extra:
            raise PromptInputError(
                f"{self.ident}: unexpected input '{extra[0]}'; "
                f"this version takes: {', '.join(sorted(declared)) or '(none)'}"
            )
        validator = self._input_validator
        if validator is None:
            missing = sorted(self.variables - set(inputs))
            if missing:
                raise PromptInputError(f"{self.ident}: input '{missing[0]}' is required")
            return
        error = json_schema.best_error(validator, inputs)
        if error is None:
            return
        if error.validator == "required":
            required: list[str] = error.validator_value  # type: ignore[assignment]
            missing = [name for name in required if name not in inputs]
            raise PromptInputError(f"{self.ident}: input '{missing[0]}' is required")
        where = json_schema.where(error, separator=".", root="(inputs)")
        raise PromptInputError(f"{self.ident}: input '{where}': {_short(error.message)}")

    def declared_inputs(self) -> set[str]:
        """Input names: `input_schema`'s properties, else the templates' variables."""
        return set(self._declared_inputs)

    @cached_property
    def _declared_inputs(self) -> frozenset[str]:
        if self.spec.input_schema is not None:
            return frozenset(self.spec.input_schema.get("properties", {}))
        return self.variables

    @cached_property
    def _wheres(self) -> list[str]:
        """Where each message template is, as a render's errors name it."""
        path = self.path.as_posix()
        return [f"{path}: messages[{index}]" for index in range(len(self.spec.message_templates()))]

    def render(self, inputs: dict[str, Any]) -> RenderedPrompt:
        """Validate `inputs`, render every message in the sandbox, and tag the result."""
        self.validate_inputs(inputs)
        messages = []
        produced = 0
        with render_budget():
            wheres = self._wheres
            for index, message in enumerate(self.spec.message_templates()):
                where = wheres[index]
                constant = self._constant.get(index)
                if constant is not None:
                    content, produced = count_rendered(constant, where, produced)
                    messages.append({"role": message.role, "content": content})
                    continue
                template = self._compiled.get(index)
                if template is None:
                    template = sandbox().from_string(message.content)
                    self._compiled[index] = template
                content, produced = render_message(template, inputs, where, produced)
                if not any(start in message.content for start in _JINJA_STARTS):
                    self._constant[index] = content
                messages.append({"role": message.role, "content": content})
        return RenderedPrompt(
            ref=self.ref,
            model=self.model,
            messages=messages,
            params=self.params,
            output_schema=self.spec.output_schema,
        )


def _short(message: str, limit: int = 160) -> str:
    """A jsonschema message on one short line (they quote whole values)."""
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 3] + "..."
