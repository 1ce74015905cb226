"""Calling a function of a higher package by name, so a lower one never imports it.

docs/design.md "Dependency direction": a lower package that must call up
(notify's sweeper, the status page publisher incidents calls, the records
comms tries a template on) names the function as ``"module:function"`` and
resolves it when called.
"""

from __future__ import annotations

import importlib
from typing import Any


def resolve(name: str) -> Any:
    """The function ``"package.module:function"`` names (imported on first use)."""
    module_name, _, function = name.partition(":")
    return getattr(importlib.import_module(module_name), function)
