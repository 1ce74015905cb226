"""``anshin inquiry …``: the inquiry commands, one Typer group each desk module adds to.

Each module that has inquiry commands exposes ``register(group)``; this module
creates the group, calls them, and adds the group to the root command. A new
module joins by being named in :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import importlib

import typer

inquiry_app = typer.Typer(help="Customer inquiries: queues, claims, escalation, the flow.")

# Modules exposing ``register(inquiry_app)``, in the order their commands are listed.
COMMAND_MODULES: tuple[str, ...] = ("anshin.inquiries.desk_cli",)


def register(app: typer.Typer) -> None:
    """Add ``inquiry`` with every module's commands to the root command."""
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(inquiry_app)
    app.add_typer(inquiry_app, name="inquiry")
