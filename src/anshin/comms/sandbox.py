"""The sandbox team-edited message templates render in: no reach, bounded memory, bounded work.

R3 and R11: templates are edited by the team and rendered on the server, on
save, on every preview and for every message. Jinja's
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` already keeps a
template from reaching anything but its facts; this sandbox also bounds what a
template may cost (issue 7: a preview with two nested loops ran 7 s, three
would have run for hours):

- **work** — every loop iteration, call, attribute read and operator counts one
  step against a budget of :data:`MAX_STEPS` per render, and the render stops
  at :data:`MAX_SECONDS` whatever it is doing between steps. No message needs
  a fraction of either; a template that needs more is refused with a clear
  error for the editor (:class:`TooMuchWork`), never a hang.
- **memory** — repetitions (``"x" * n``), powers, and numbers passed to string
  methods and filters (``"x".ljust(n)``, ``|center(n)``) are capped, and so are
  widths in format strings (``"%9999999s"``), so nothing builds a string no
  message could be. The renderer (``comms.rules.render_text``) caps the output.

Loops are counted by wrapping the iterable of every ``{% for %}`` (and of a
recursive loop's ``loop(...)`` call) in :func:`_counted` when the template is
parsed; the template's author cannot see or avoid the wrapper.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Guards against a template that tries to exhaust memory ("x" * 10**9).
MAX_REPEAT = 10_000
MAX_EXPONENT = 100
# No message is this long; a template producing more is looping out of control.
MAX_OUTPUT = 100_000
# Steps (loop iterations, calls, attribute reads, operators) one render may take.
# The longest shipped template takes a few hundred.
MAX_STEPS = 100_000
# Wall-clock bound of one render, for steps that are slow one by one.
MAX_SECONDS = 2.0
# Globals a message never needs and a template could use to burn CPU or memory.
_REMOVED_GLOBALS = ("range", "lipsum")
_LOOP_GUARD = "__anshin_counted__"
# A width or precision of six digits or more in a %- or {}-format string.
_HUGE_FORMAT = re.compile(r"%[-+ #0*]*\d{6,}|%[-+ #0]*\d*\.\d{6,}|\{[^{}]*:[^{}]*\d{6,}[^{}]*\}")


class TooMuchWork(SecurityError):
    """The template took more steps or time than any message may (the editor is told why)."""


@dataclass
class _Budget:
    steps: int
    deadline: float


_BUDGET: ContextVar[_Budget | None] = ContextVar("anshin_template_budget", default=None)


@contextmanager
def budget(steps: int = MAX_STEPS, seconds: float = MAX_SECONDS) -> Iterator[None]:
    """Render inside this to bound the work (the renderer does; outside it nothing is counted)."""
    token = _BUDGET.set(_Budget(steps=steps, deadline=time.monotonic() + seconds))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _step() -> None:
    current = _BUDGET.get()
    if current is None:
        return
    current.steps -= 1
    if current.steps < 0:
        raise TooMuchWork("the template does too much work (loops inside loops?)")
    if time.monotonic() > current.deadline:
        raise TooMuchWork("the template takes too long to render (loops inside loops?)")


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    """The loop's items, one step each."""
    for item in iterable:
        _step()
        yield item


def _check_number(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT:
        raise SecurityError("a number this large makes a text no message can be")


def _check_format(value: Any) -> None:
    if isinstance(value, str) and _HUGE_FORMAT.search(value):
        raise SecurityError("a width this large makes a text no message can be")


def _bounded_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that counts a step and refuses sizes no message needs."""

    @functools.wraps(func)  # keeps jinja's pass_context / pass_environment marks
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _step()
        for value in (*args, *kwargs.values()):
            _check_number(value)
        if func.__name__ == "do_format" and args:
            _check_format(args[0])
        return func(*args, **kwargs)

    return bounded


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox with bounded memory and work (see the module's doc)."""

    intercepted_binops = frozenset({"*", "**", "%", "+", "-", "//", "/"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _step()
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError("exponent too large")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(count, int)
                    and count * max(len(seq), 1) > MAX_REPEAT
                ):
                    raise SecurityError("repetition too large")
        if operator == "%":
            _check_format(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _step()
        if isinstance(getattr(__obj, "__self__", None), str | list | tuple | dict):
            for value in (*args, *kwargs.values()):
                _check_number(value)
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _step()
        if attribute in ("format", "format_map"):
            _check_format(obj)  # str.format is wrapped here, before it is called
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _step()
        if argument in ("format", "format_map"):
            _check_format(obj)
        return super().getitem(obj, argument)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Parse, then count every loop: ``for x in items`` runs as ``for x in counted(items)``."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = _guarded(loop.iter)
        for call in tree.find_all(nodes.Call):
            # A recursive loop's ``loop(children)`` starts a loop over ``children``.
            if isinstance(call.node, nodes.Name) and call.node.name == "loop" and call.args:
                call.args[0] = _guarded(call.args[0])
        return tree


def _guarded(iterable: nodes.Node) -> nodes.Call:
    return nodes.Call(
        nodes.Name(_LOOP_GUARD, "load", lineno=iterable.lineno),
        [iterable],
        [],
        None,
        None,
        lineno=iterable.lineno,
    )


def environment() -> ImmutableSandboxedEnvironment:
    """A fresh sandbox: plain text out (no autoescape), unknown variables are errors."""
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    for name in _REMOVED_GLOBALS:
        env.globals.pop(name, None)
    env.globals[_LOOP_GUARD] = _counted
    env.filters = {name: _bounded_filter(func) for name, func in env.filters.items()}
    return env
