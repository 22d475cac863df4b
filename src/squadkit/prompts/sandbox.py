"""The sandbox prompt templates render in, and the bounds on what they can make.

Jinja2's immutable sandbox with `StrictUndefined`: a template cannot reach Python internals
or mutate its inputs, and a missing variable is an error rather than an empty string. What
a template can make is bounded (`MAX_RENDERED_CHARS`, `MAX_RANGE_ITEMS`): an operation that
would pass the cap fails before it allocates, and every failure of a template is one
`PromptRenderError` naming the file and message (`render_message`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

from .errors import PromptRenderError

if TYPE_CHECKING:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment


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


@contextmanager
def render_budget() -> Iterator[None]:
    """One render's `range()` allowance, shared by every message and nested loop in it."""
    token = _BUDGET.set([MAX_RANGE_ITEMS])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def render_message(
    template: jinja2.Template, inputs: dict[str, Any], where: str, produced: int
) -> tuple[str, int]:
    """`template` rendered with `inputs` (within `render_budget`), and the characters made so
    far by the whole render; any failure is one `PromptRenderError` starting with `where`."""
    import jinja2  # noqa: PLC0415 - see sandbox()

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
    return "".join(parts), produced


def count_rendered(text: str, where: str, produced: int) -> tuple[str, int]:
    """`render_message` for a message already rendered once whose text cannot vary (it has no
    Jinja syntax): `text`, counted against the render's budget like a rendered one."""
    produced += len(text)
    try:
        _check_size(produced, "the rendered text")
    except _TooLarge as error:
        raise PromptRenderError(f"{where}: too large: {error}") from None
    return text, produced
