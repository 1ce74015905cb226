"""The machine a benchmark runs on: what it is, how busy it is, the tools it lacks.

Re-exported by ``common``.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

console = Console(stderr=True)


def load_average() -> float:
    """The 1-minute load average: other work on the machine skews every figure."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_until_idle(limit: float, timeout: float) -> float:
    """Wait (up to ``timeout`` s) for the 1-minute load average to fall below ``limit``."""
    deadline = time.monotonic() + timeout
    while (load := load_average()) >= limit and time.monotonic() < deadline:
        console.print(f"waiting for the machine to go idle (load average {load:.2f})")
        time.sleep(min(15.0, max(0.0, deadline - time.monotonic())))
    return load_average()


def machine() -> dict[str, str]:
    """What the figures were measured on, for RESULTS.md."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {
        "cpus": str(os.cpu_count() or 0),
        "model": model,
        "ram": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def ensure_debian_packages(commands: dict[str, Sequence[str]]) -> None:
    """Install missing tools from Debian: {command: [package, fallback package, ...]}.

    Waits for the dpkg lock when another apt run holds it. Needs root (or
    password-less sudo); otherwise it says which packages to install.
    """
    missing = {cmd: pkgs for cmd, pkgs in commands.items() if not _which(cmd)}
    if not missing:
        return
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"]).returncode == 0:
            prefix = ["sudo", "-n"]
        else:
            names = " ".join(p[0] for p in missing.values())
            sys.exit(f"missing {', '.join(missing)}: run `sudo apt-get install -y {names}`")
    apt = [*prefix, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-q"]
    apt += ["-o", "DPkg::Lock::Timeout=600"]
    console.print(f"installing from Debian: {', '.join(p[0] for p in missing.values())}")
    subprocess.run([*apt, "update"], check=True, stdout=subprocess.DEVNULL)
    for cmd, packages in missing.items():
        for package in packages:
            done = subprocess.run([*apt, "install", "-y", "--no-install-recommends", package])
            if done.returncode == 0 and _which(cmd):
                break
        else:
            sys.exit(f"could not install {cmd} (tried {', '.join(packages)})")


def _which(cmd: str) -> str | None:
    return shutil.which(cmd) or shutil.which(cmd, path="/usr/sbin:/sbin:/usr/bin")
