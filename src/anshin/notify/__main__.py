"""``python -m anshin.notify``: the notify commands alone (worker, subscribers, deliveries).

The main ``anshin`` CLI mounts the same commands; this entry point lets a
worker run from a bare install and lets the tests start real worker processes.
"""

from __future__ import annotations

import typer

from anshin.cliutil import AnshinGroup
from anshin.notify.cli import register

app = typer.Typer(cls=AnshinGroup, no_args_is_help=True, add_completion=False)
register(app)

if __name__ == "__main__":
    app()
