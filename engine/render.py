"""Render Jinja mappings into native values, inside a sandbox, with limits on cost.

A mapping is a structure (dicts, lists, scalars) whose text leaves may be Jinja templates.
Every template is compiled once, when the recipe is loaded, and rendered leaf by leaf:

- a leaf that is exactly one expression, `"{{ line.quantity }}"`, gives the expression's own
  value (the integer 2, None, a bool, a Decimal, a list) without passing through text;
- any other template gives text;
- a leaf with no Jinja in it is a constant.

Event data only ever enters as values in the context; it is never compiled as a template.
The sandbox limits what a template can reach, not what it costs, so `range` and the `*` operator
are bounded here, and text output is capped.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from engine.errors import RenderError
from engine.filters import FILTERS
from engine.lookup import LookupTables

__all__ = ["Renderer", "Template", "MappingTemplate", "MissingPill", "DEFAULT_LIMITS", "Limits"]


@dataclass(frozen=True)
class Limits:
    """Cost limits for one render: characters of output, and loop iterations through `range`."""

    max_output: int = 1_000_000
    max_iterations: int = 100_000


DEFAULT_LIMITS = Limits()


class MissingPill(jinja2.UndefinedError):
    """A template read a name or attribute that the context does not have."""

    def __init__(self, name: str | None, message: str) -> None:
        super().__init__(message)
        self.name = name


class _StrictUndefined(jinja2.StrictUndefined):
    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        raise MissingPill(self._undefined_name, self._undefined_message)

    __str__ = __iter__ = __len__ = __eq__ = __ne__ = __bool__ = __hash__ = __contains__ = _fail_with_undefined_error  # type: ignore[assignment]


class _Budget(threading.local):
    iterations_left: int = DEFAULT_LIMITS.max_iterations
    max_output: int = DEFAULT_LIMITS.max_output


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**"])

    def __init__(self, budget: _Budget) -> None:
        super().__init__(undefined=_StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self.budget = budget

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 1000:
            raise RenderError(f"the exponent {right} is too large for a mapping")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
                    if len(sequence) * count > self.budget.max_output:
                        raise RenderError(f"a mapping built a value longer than {self.budget.max_output} characters or items")
        return super().call_binop(context, operator, left, right)


_SINGLE_EXPRESSION = re.compile(r"\A\s*\{\{[-+]?(?P<expression>.*?)[-+]?\}\}\s*\Z", re.DOTALL)
_JINJA_MARKERS = ("{{", "{%", "{#")


class Template:
    """One compiled leaf of a mapping."""

    def __init__(
        self,
        source: str,
        render: Callable[[dict[str, Any]], Any],
        kind: str,
        render_in: Callable[["_SharedContext"], Any] | None = None,
    ) -> None:
        self.source = source
        self.kind = kind
        self._render = render
        self._render_in = render_in

    def render(self, context: dict[str, Any]) -> Any:
        return self._render(context)

    def render_in(self, shared: "_SharedContext") -> Any:
        """Render with the Jinja context of a whole mapping, built once for all its expressions."""
        if self._render_in is None:
            return self._render(shared.values)
        return self._render_in(shared)


class _SharedContext:
    """The values of one mapping render, and the one Jinja context its expression leaves share.

    Building a Jinja context copies every name in scope, which cost about as much as the
    expressions themselves. A mapping's leaves all see the same names, so they share one context.
    """

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self._jinja: Any = None

    def jinja(self, template: jinja2.Template) -> Any:
        if self._jinja is None:
            self._jinja = template.new_context(self.values)
        return self._jinja


class MappingTemplate:
    """A compiled mapping: the same structure as its source, with templates at the leaves."""

    def __init__(self, tree: Any) -> None:
        self.tree = tree

    def render(self, context: dict[str, Any], path: str = "input") -> Any:
        """Render every leaf; a failing leaf raises RenderError naming its path in the mapping."""
        return _render_tree(self.tree, _SharedContext(context), path)


def _render_tree(tree: Any, shared: _SharedContext, path: str) -> Any:
    if isinstance(tree, Template):
        try:
            return tree.render_in(shared)
        except RenderError as error:
            raise RenderError(f"{path}: {error}") from None
    if isinstance(tree, dict):
        return {key: _render_tree(value, shared, f"{path}.{key}") for key, value in tree.items()}
    if isinstance(tree, list):
        return [_render_tree(value, shared, f"{path}[{index}]") for index, value in enumerate(tree)]
    return tree


class Renderer:
    """Compiles and renders templates for one recipe, with its lookup tables and limits."""

    def __init__(self, lookups: LookupTables | None = None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._budget = _Budget()
        self.environment = _Sandbox(self._budget)
        self.environment.filters.update(FILTERS)

        tables = lookups or LookupTables()
        self.lookups = tables
        self.environment.globals["lookup"] = tables.lookup
        self.environment.filters["lookup"] = tables.lookup_filter
        self.environment.globals["none"] = None
        self.environment.globals["range"] = self._counted_range
        self._cache: dict[str, Template] = {}

    def compile(self, source: Any) -> Template:
        """Compile one leaf. Raises jinja2.TemplateSyntaxError for a syntax error."""
        if not isinstance(source, str) or not any(marker in source for marker in _JINJA_MARKERS):
            return Template(str(source), lambda context, value=source: value, "constant")

        cached = self._cache.get(source)
        if cached is not None:
            return cached

        parsed = self.environment.parse(source)
        match = _SINGLE_EXPRESSION.match(source)
        if match and _is_single_output(parsed):
            expression = self.environment.compile_expression(match.group("expression"), undefined_to_none=False)
            render_in = self._shared_renderer(source, expression)
            template = Template(source, lambda context: render_in(_SharedContext(context)), "expression", render_in)
        else:
            compiled = self.environment.from_string(source)
            template = Template(source, self._text_renderer(source, compiled), "text")

        self._cache[source] = template
        return template

    def compile_mapping(self, mapping: Any) -> MappingTemplate:
        """Compile every text leaf of a structure. Raises jinja2.TemplateSyntaxError."""
        return MappingTemplate(self._compile_tree(mapping))

    def _compile_tree(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self._compile_tree(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._compile_tree(item) for item in value]
        if isinstance(value, str):
            return self.compile(value)
        return value

    def _start(self) -> None:
        self._budget.iterations_left = self.limits.max_iterations
        self._budget.max_output = self.limits.max_output

    def _shared_renderer(self, source: str, expression: Any) -> Callable[[_SharedContext], Any]:
        # The compiled expression is a template that sets `result` in the context it runs in.
        # `result` is removed again afterwards, so the next leaf of the mapping cannot see it.
        template: jinja2.Template = expression._template

        def render(shared: _SharedContext) -> Any:
            self._start()
            context = shared.jinja(template)
            with _pill_errors(source):
                try:
                    for _ in template.root_render_func(context):
                        pass
                    value = context.vars.get("result")
                finally:
                    context.vars.pop("result", None)
                if isinstance(value, jinja2.Undefined):
                    value._fail_with_undefined_error()
            self._check_size(value)
            return value

        return render

    def _text_renderer(self, source: str, compiled: jinja2.Template) -> Callable[[dict[str, Any]], Any]:
        def render(context: dict[str, Any]) -> str:
            self._start()
            pieces: list[str] = []
            length = 0
            with _pill_errors(source):
                for piece in compiled.generate(**context):
                    length += len(piece)
                    if length > self.limits.max_output:
                        raise RenderError(f"the mapping {source[:60]!r} rendered more than {self.limits.max_output} characters")
                    pieces.append(piece)
            return "".join(pieces)

        return render

    def _check_size(self, value: Any) -> None:
        if isinstance(value, (str, list, dict, tuple)) and len(value) > self.limits.max_output:
            raise RenderError(f"a mapping produced a value of {len(value)} characters or items; the limit is {self.limits.max_output}")

    def _counted_range(self, *args: int) -> Iterator[int]:
        for number in range(*args):
            self._budget.iterations_left -= 1
            if self._budget.iterations_left < 0:
                raise RenderError(f"a mapping ran more than {self.limits.max_iterations} loop iterations")
            yield number


def _is_single_output(template: nodes.Template) -> bool:
    if len(template.body) != 1 or not isinstance(template.body[0], nodes.Output):
        return False
    output = template.body[0].nodes
    return len(output) == 1 and not isinstance(output[0], nodes.TemplateData)


class _pill_errors:
    """Turn Jinja's undefined and type errors inside a render into RenderError with the pill path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any) -> bool:
        if error is None or isinstance(error, RenderError):
            return False
        if isinstance(error, MissingPill):
            raise RenderError(_missing_pill_message(self.source, error)) from None
        if isinstance(error, jinja2.UndefinedError):
            raise RenderError(f"missing data pill in {self.source!r}: {error}") from None
        if isinstance(error, jinja2.exceptions.SecurityError):
            raise RenderError(f"the mapping {self.source!r} is not allowed: {error}") from None
        if isinstance(error, (TypeError, ValueError, ArithmeticError, LookupError, AttributeError)):
            raise RenderError(f"the mapping {self.source!r} failed: {type(error).__name__}: {error}") from None
        return False


_PILL = re.compile(r"[A-Za-z_]\w*(?:\s*(?:\.\s*[A-Za-z_]\w*|\[\s*(?:'[^']*'|\"[^\"]*\"|\d+)\s*\]))*")


def _missing_pill_message(source: str, error: MissingPill) -> str:
    """Name the data pill that is missing, as written in the template, for example `trigger.customer.email`."""
    name = error.name
    if name:
        for candidate in _PILL.findall(source):
            parts = re.split(r"\s*\.\s*|\s*\[\s*['\"]?|['\"]?\s*\]\s*", candidate)
            parts = [part for part in parts if part]
            if name in parts:
                pill = ".".join(parts[: parts.index(name) + 1])
                if len(parts[: parts.index(name) + 1]) > 1 or parts[0] == name:
                    return f"missing data pill '{pill}' ({error.message})"
    return f"missing data pill in {source!r} ({error.message})"

