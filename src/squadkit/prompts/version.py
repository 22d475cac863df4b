"""One prompt version: its validated spec, its content hash and sandboxed rendering.

Templates are Jinja2 rendered in an immutable sandbox with `StrictUndefined`: a template
cannot reach Python internals or mutate its inputs, and a missing variable is an error rather
than an empty string. What a template can make is bounded too (`MAX_RENDERED_CHARS`,
`MAX_RANGE_ITEMS`): an operation that would pass the cap fails before it allocates, and any
failure is one `PromptRenderError` naming the file and message. Inputs are validated
against the prompt's `input_schema` before any template runs, so a bad call fails before it
costs a model call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from .errors import PromptInputError, PromptRenderError

if TYPE_CHECKING:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from jsonschema.protocols import Validator

    from ..gateway import PromptRef

PROMPT_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


MAX_RENDERED_CHARS = 1_000_000
"""The most characters one render of a prompt may produce (all messages together).

About 250,000 tokens: more than any context window a squad pins today. Checked while the
text is produced and, for the operations that multiply a string (`*`, padding, `replace`,
`join`, `indent`), before the result is allocated, so a prompt like `{{ subject *
100000000 }}` fails at once instead of allocating gigabytes.
"""
MAX_RANGE_ITEMS = 100_000
"""`range()` in a template yields at most this many items in one render, however nested."""

_BUDGET: ContextVar[list[int]] = ContextVar("render_budget")
_DIGITS = re.compile(r"\d{7,}")  # a number above the cap has at least 7 digits


@cache
def sandbox() -> ImmutableSandboxedEnvironment:
    """One environment for every prompt; compiled templates are cached per version.

    Built on first use, so commands that only read the registry (`squad prompts check`
    with validated files) never import Jinja. Beyond Jinja's immutable sandbox it bounds
    what a template can make: see `MAX_RENDERED_CHARS` and `MAX_RANGE_ITEMS`.
    """
    import jinja2  # noqa: PLC0415
    from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: PLC0415
    from jinja2.utils import Namespace  # noqa: PLC0415

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "%", "+"})

        def call_binop(
            self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
        ) -> Any:
            if operator == "*":
                _check_size(_product_size(left, right), f"'{operator}'")
            elif operator == "+":
                if isinstance(left, (str, list, tuple)) and isinstance(right, type(left)):
                    _check_size(len(left) + len(right), "'+'")
            elif operator == "**":
                _check_power(left, right)
            elif isinstance(left, str):  # '%' formatting: widths in the string or arguments
                _check_format(left, right if isinstance(right, tuple) else (right,), "'%'")
            return super().call_binop(context, operator, left, right)

        def call(
            __self,  # noqa: N805 - Jinja's own spelling, so keyword arguments cannot clash
            __context: jinja2.runtime.Context,
            __obj: Any,
            *args: Any,
            **kwargs: Any,
        ) -> Any:
            method = getattr(__obj, "__name__", "")
            # Jinja hands out `str.format` wrapped (`wrap_str_format`): look through it.
            owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
            if isinstance(owner, str):
                _check_size(_method_size(owner, method, args, kwargs), f"str.{method}()")
            return super().call(__context, __obj, *args, **kwargs)

    environment = BoundedSandbox(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    class BoundedNamespace(Namespace):
        """`namespace()`, refusing a value past the cap (`ns.s ~ ns.s` doubles per loop)."""

        def __setitem__(self, name: str, value: Any) -> None:
            if isinstance(value, (str, list, tuple)):
                _check_size(len(value), f"namespace attribute '{name}'")
            super().__setitem__(name, value)

    environment.globals["range"] = _bounded_range
    environment.globals["namespace"] = BoundedNamespace
    del environment.globals["lipsum"]  # lipsum(n) writes n paragraphs; no prompt needs it
    for name in ("center", "indent", "join", "replace", "format"):
        environment.filters[name] = _bounded_filter(name, environment.filters[name])
    return environment


class _TooLarge(Exception):
    """A template asked for more than the sandbox allows; `render` names the prompt."""


def _check_size(size: int, what: str) -> None:
    if size > MAX_RENDERED_CHARS:
        raise _TooLarge(
            f"{what} would make {size:,} characters; a prompt renders at most "
            f"{MAX_RENDERED_CHARS:,}"
        )


def _check_ints(values: Any, what: str) -> None:
    for value in values:
        if isinstance(value, int) and abs(value) > MAX_RENDERED_CHARS:
            _check_size(abs(value), what)


def _check_format(text: str, values: Any, what: str) -> None:
    """A format string's widths and precisions (`%1000000s`, `{:>1000000}`) and its int
    arguments (`%*s`) stay within the cap."""
    _check_ints(values, what)
    for digits in _DIGITS.findall(text):
        _check_size(int(digits), what)


def _product_size(left: Any, right: Any) -> int:
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, (str, list, tuple)) and isinstance(times, int):
            return len(sequence) * max(times, 0)
    return 0


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1 and exponent > 0:
        digits = exponent * abs(base).bit_length() * 0.302
        if digits > 4300:  # Python refuses to print a longer int anyway
            raise _TooLarge(f"'**' would make a number of about {int(digits):,} digits")


def _method_size(text: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """The length of `text.<method>(*args)` for the str methods that can grow it."""
    values = list(args) + list(kwargs.values())
    if method in ("center", "ljust", "rjust", "zfill") and values and isinstance(values[0], int):
        return max(len(text), values[0])
    if method == "expandtabs":
        size = values[0] if values and isinstance(values[0], int) else 8
        return len(text) + text.count("\t") * max(size, 0)
    if method == "replace" and len(values) >= 2 and all(isinstance(v, str) for v in values[:2]):
        old, new = values[0], values[1]
        count = text.count(old) if old else len(text) + 1
        return len(text) + count * max(len(new) - len(old), 0)
    if method == "join" and values and isinstance(values[0], (list, tuple)):
        items = values[0]
        return len(text) * max(len(items) - 1, 0) + sum(len(str(item)) for item in items)
    if method in ("format", "format_map"):
        _check_format(text, values, f"str.{method}()")
    return 0


def _bounded_filter(name: str, original: Any) -> Any:
    """A Jinja filter that checks, before it runs, that its result stays within the cap."""

    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = list(args)
        if name == "format" and values:
            _check_format(str(values[0]), values[1:] + list(kwargs.values()), name)
        elif name == "center" and len(values) >= 2:
            _check_size(_method_size(str(values[0]), "center", (values[1],), {}), name)
        elif name == "indent" and values:
            width = values[1] if len(values) >= 2 else kwargs.get("width", 4)
            lines = str(values[0]).count("\n") + 1
            pad = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
            _check_size(len(str(values[0])) + lines * pad, name)
        elif name == "join" and len(values) >= 2:  # (eval_ctx, value, d)
            items = list(values[1])
            separator = values[2] if len(values) >= 3 else kwargs.get("d", "")
            _check_size(_method_size(str(separator), "join", (items,), {}), name)
            values[1] = items
        elif name == "replace" and len(values) >= 4:  # (eval_ctx, s, old, new)
            _check_size(_method_size(str(values[1]), "replace", (values[2], values[3]), {}), name)
        return original(*values, **kwargs)

    if hasattr(original, "jinja_pass_arg"):  # pass_eval_context: Jinja passes it first
        bounded.jinja_pass_arg = original.jinja_pass_arg  # type: ignore[attr-defined]
    return bounded


def _bounded_range(*args: int) -> Iterator[int]:
    """`range()` whose items count against one budget per render (nested loops included)."""
    numbers = range(*args)
    budget = _BUDGET.get(None)
    try:
        size = len(numbers)
    except OverflowError:
        size = MAX_RANGE_ITEMS + 1
    if size > MAX_RANGE_ITEMS or (budget is not None and size > budget[0]):
        raise _TooLarge(
            f"range() of {size:,} items; a prompt's ranges make at most {MAX_RANGE_ITEMS:,} "
            "items in one render"
        )
    if budget is not None:
        budget[0] -= size
    return iter(numbers)


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
class RenderedPrompt:
    """A prompt ready for the gateway, carrying exactly which version produced it."""

    name: str
    version: int
    label: str | None
    content_hash: str
    model: str
    messages: list[dict[str, str]]
    params: dict[str, Any]
    output_schema: dict[str, Any] | None

    @property
    def ref(self) -> PromptRef:
        """The gateway's `PromptRef`, so completions, reports and traces name this prompt."""
        from ..gateway import PromptRef  # noqa: PLC0415 - the gateway is only needed here

        return PromptRef(
            name=self.name, version=self.version, label=self.label, content_hash=self.content_hash
        )

    @property
    def text(self) -> str:
        """The content of a single-text prompt (all messages joined otherwise)."""
        return "\n\n".join(message["content"] for message in self.messages)


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

    @cached_property
    def _input_validator(self) -> Validator | None:
        if self.spec.input_schema is None:
            return None
        from jsonschema import Draft202012Validator  # noqa: PLC0415 - only when rendering

        return Draft202012Validator(self.spec.input_schema)

    def validate_inputs(self, inputs: dict[str, Any]) -> None:
        """Raise `PromptInputError` naming the first missing, extra or wrong-typed input."""
        if not isinstance(inputs, dict):
            raise PromptInputError(
                f"{self.ident}: inputs must be a mapping of names to values, "
                f"not {type(inputs).__name__}"
            )
        declared = self.declared_inputs()
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
        from jsonschema.exceptions import best_match  # noqa: PLC0415

        error = best_match(validator.iter_errors(inputs))
        if error is None:
            return
        if error.validator == "required":
            missing = [name for name in error.validator_value if name not in inputs]
            raise PromptInputError(f"{self.ident}: input '{missing[0]}' is required")
        where = ".".join(str(part) for part in error.absolute_path) or "(inputs)"
        raise PromptInputError(f"{self.ident}: input '{where}': {_short(error.message)}")

    def declared_inputs(self) -> set[str]:
        """Input names: `input_schema`'s properties, else the templates' variables."""
        if self.spec.input_schema is not None:
            return set(self.spec.input_schema.get("properties", {}))
        return set(self.variables)

    def render(self, inputs: dict[str, Any]) -> RenderedPrompt:
        """Validate `inputs`, render every message in the sandbox, and tag the result."""
        import jinja2  # noqa: PLC0415 - see sandbox()

        self.validate_inputs(inputs)
        messages = []
        produced = 0
        budget = _BUDGET.set([MAX_RANGE_ITEMS])
        try:
            for index, message in enumerate(self.spec.message_templates()):
                template = self._compiled.get(index)
                if template is None:
                    template = sandbox().from_string(message.content)
                    self._compiled[index] = template
                where = f"{self.path.as_posix()}: messages[{index}]"
                parts = []
                try:
                    for part in template.generate(inputs):
                        produced += len(part)
                        _check_size(produced, "the rendered text")
                        parts.append(part)
                except _TooLarge as error:
                    raise PromptRenderError(f"{where}: too large: {error}") from None
                except jinja2.exceptions.SecurityError as error:
                    raise PromptRenderError(f"{where}: blocked by the sandbox: {error}") from None
                except jinja2.TemplateError as error:
                    raise PromptRenderError(f"{where}: {error.message or error}") from None
                except (ArithmeticError, LookupError, TypeError, ValueError, MemoryError) as error:
                    # The template's own operation failed (1/0, a huge int printed...).
                    raise PromptRenderError(f"{where}: {type(error).__name__}: {error}") from None
                except RecursionError:
                    raise PromptRenderError(f"{where}: the template recursed too deeply") from None
                messages.append({"role": message.role, "content": "".join(parts)})
        finally:
            _BUDGET.reset(budget)
        return RenderedPrompt(
            name=self.name,
            version=self.version,
            label=self.label,
            content_hash=self.content_hash,
            model=self.model,
            messages=messages,
            params=self.params,
            output_schema=self.spec.output_schema,
        )


def _short(message: str, limit: int = 160) -> str:
    """A jsonschema message on one short line (they quote whole values)."""
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 3] + "..."
