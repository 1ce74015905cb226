"""The intake benchmark's clients: varied inquiry bodies POSTed by httpx or by wrk.

``bench/intake.py`` drives the baseline and the product with one of two load
generators, both ``connections`` concurrent keep-alive clients on this machine:

- ``httpx`` (default): asyncio clients in this Python process, a fixed number
  of requests per round, every latency kept. Needs nothing installed, but on
  a 2-CPU machine it takes a large share of the CPUs the server needs (its own
  CPU per request is reported beside the server's).
- ``wrk``: the C load generator (one thread, epoll) for a fixed time per round,
  fed by a Lua script this module writes: a table of the same bodies and a
  ``request()`` that sends them in turn, a ``response()`` that counts status
  codes, and a ``done()`` that prints the round's figures (requests,
  duration, p50/p99/p99.9 latency, status counts, socket errors) as one JSON
  line.

Bodies are numbered across the whole run (warm-up and rounds, per endpoint)
so no inquiry text repeats within a run: triage remembers texts it has
answered (``Triager._memo``), and a text sent again would be answered from it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

TEXTS = (
    "ログインできません。いつ直りますか？",
    "ﾛｸﾞｲﾝできない！！ 仕事にならないんですけど😡",
    "Since this morning I cannot sign in. Is there an outage?",
    "決済画面でエラー E-502 が出ます。回避策はありますか",
    "昨日の請求が二重になっている気がします。確認してください。",
)
# wrk sends the table's bodies in turn; more requests than this in one round would repeat
# texts, so the table is sized from the round's length and this rate.
WRK_MAX_RATE = 2000
_MARK = "INTAKE-ROUND "


@dataclass
class Round:
    """What one round of one endpoint got."""

    latencies_ms: list[float] = field(default_factory=list)  # httpx: every request's
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server's processes spent during the round
    client_cpu: float = 0.0  # CPU seconds the load generator spent
    p50_ms: float | None = None  # wrk: its own percentiles of the round
    p99_ms: float | None = None
    bodies_repeated: int = 0  # wrk: requests past the end of the table (texts sent again)

    @property
    def cpu_ms(self) -> float:
        """Server CPU per stored request: the cost, whatever else shares the machine."""
        return 1000 * self.server_cpu / self.ok if self.ok else 0.0

    @property
    def ok(self) -> int:
        return self.statuses.get("201", 0)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def body(i: int) -> dict[str, Any]:
    """A varied inquiry: texts, customers (some writing again), tiers, languages."""
    customer: dict[str, Any] = {"name": f"顧客 {i % 997}", "tier": "standard"}
    if i % 10:
        customer["email"] = f"c{i % 2000}@example.com"  # nine in ten leave an address
    if i % 17 == 0:
        customer["tier"] = "important"
    return {
        "text": TEXTS[i % len(TEXTS)] + f" (#{i})",
        "customer": customer,
        "locale": "en" if i % 7 == 0 else "ja",
        "channel": "chat" if i % 3 else "form",
    }


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "ja"}


# --- httpx -----------------------------------------------------------------------------------


async def _httpx(
    base: str, token: str, path: str, first: int, count: int, connections: int
) -> Round:
    result = Round()
    numbers = iter(range(first, first + count))
    headers = _headers(token)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async def worker(client: httpx.AsyncClient) -> None:
        for i in numbers:
            began = time.perf_counter()
            try:
                response = await client.post(path, json=body(i), headers=headers)
                key = str(response.status_code)
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            result.latencies_ms.append((time.perf_counter() - began) * 1000)
            result.statuses[key] += 1

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60.0) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        result.seconds = time.perf_counter() - began
    return result


def httpx_round(
    base: str, token: str, path: str, first: int, count: int, connections: int
) -> Round:
    """``count`` POSTs of bodies ``first``… from ``connections`` concurrent httpx clients."""
    cpu = time.process_time()
    result = asyncio.run(_httpx(base, token, path, first, count, connections))
    result.client_cpu = time.process_time() - cpu
    return result


# --- wrk -------------------------------------------------------------------------------------

_LUA = """
-- Written by bench/intake_load.py: POST the bodies in turn, count answers, print the figures.
local bodies = {
%(bodies)s
}
local path = %(path)s
local headers = {
%(headers)s
}
local requests = {}
local next_one = 0
counts = {}
sent = 0

function init(args)
  for k, b in ipairs(bodies) do
    requests[k] = wrk.format("POST", path, headers, b)
  end
end

function request()
  next_one = next_one + 1
  sent = sent + 1
  return requests[(next_one - 1) %% #requests + 1]
end

function response(status, headers, body)
  local key = tostring(status)
  counts[key] = (counts[key] or 0) + 1
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, _requests)
  local statuses, total_sent = {}, 0
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("counts")) do
      statuses[key] = (statuses[key] or 0) + n
    end
    total_sent = total_sent + thread:get("sent")
  end
  local parts = {}
  for key, n in pairs(statuses) do
    table.insert(parts, string.format('"%%s": %%d', key, n))
  end
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests": %%d, "duration_us": %%d, "sent": %%d, "table": %%d, ' ..
    '"p50_us": %%d, "p99_us": %%d, "p999_us": %%d, "max_us": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, "non2xx": %%d, ' ..
    '"statuses": {%%s}}\\n',
    summary.requests, summary.duration, total_sent, #bodies,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status, table.concat(parts, ", ")))
end
"""


def _lua_string(text: str) -> str:
    """A Lua long-bracket literal (no escapes to get wrong; the bodies never hold its end)."""
    level = "=" * 4
    assert f"]{level}]" not in text
    return f"[{level}[{text}]{level}]"


def wrk_script(work: Path, token: str, path: str, first: int, count: int) -> Path:
    """The Lua script of one round: bodies ``first`` … ``first + count - 1`` to ``path``."""
    bodies = ",\n".join(
        _lua_string(json.dumps(body(i), ensure_ascii=False, separators=(",", ":")))
        for i in range(first, first + count)
    )
    headers = {**_headers(token), "Content-Type": "application/json"}
    script = _LUA % {
        "bodies": bodies,
        "path": _lua_string(path),
        "headers": ",\n".join(
            f"  [ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items()
        ),
        "mark": _MARK,
    }
    target = work / f"intake-{path.strip('/').replace('/', '-')}-{first}.lua"
    target.write_text(script, encoding="utf-8")
    return target


def parse_round(output: str) -> tuple[Round, int]:
    """The figures ``done()`` printed; also how many requests went out (to number the next)."""
    line = next((ln for ln in output.splitlines() if ln.startswith(_MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{output[-3000:]}")
    found = json.loads(line[len(_MARK) :])
    result = Round(
        seconds=found["duration_us"] / 1e6,
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        bodies_repeated=max(0, found["sent"] - found["table"]),
    )
    result.statuses.update({str(k): int(n) for k, n in found["statuses"].items()})
    for key in ("connect", "read", "write", "timeout"):
        if found[key]:
            result.statuses[f"socket {key}"] += int(found[key])
    return result, int(found["sent"])


def wrk_round(
    work: Path,
    base: str,
    token: str,
    path: str,
    first: int,
    seconds: float,
    connections: int,
) -> tuple[Round, int]:
    """``seconds`` of POSTs from wrk (one thread, ``connections`` connections); bodies sent."""
    count = max(200, int(seconds * WRK_MAX_RATE))
    script = wrk_script(work, token, path, first, count)
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "60s"]
    argv += ["--latency", "-s", str(script), base + path]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{output[-3000:]}")
    result, sent = parse_round(output)
    result.client_cpu = usage.ru_utime + usage.ru_stime
    return result, sent
