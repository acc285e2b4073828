"""Load from another process: `wrk` when the system has it (Debian: `apt-get install wrk`),
else `python -m bench.load` (an asyncio client in its own process, on its own core when
there is one). Either way the load generator does not share the server's interpreter.

A request is a POST of a JSON body with headers; `bodies` gives several (wrk rotates
through them, one per request, so each logIncident can name another student). Figures:
requests, req/s, p50/p99 latency in ms, and non-2xx answers (which make a run invalid)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

WRK = shutil.which("wrk")
GENERATOR = "wrk" if WRK else "bench.load (python, separate process)"


def _lua(bodies: list[str], headers: dict[str, str]) -> str:
    lines = ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"']
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    lines.append("local bodies = {" + ",".join(json.dumps(b) for b in bodies) + "}")
    lines.append("local n = 0")
    lines.append(
        "request = function() n = n + 1\n"
        "  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1]) end"
    )
    # Per-run latency percentiles and the error count as one JSON line wrk prints at the end.
    lines.append(
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format(\'JSON {"requests": %d, "seconds": %f, "p50_us": %d, '
        '"p90_us": %d, "p99_us": %d, "non_2xx": %d, "socket_errors": %d}\\n\', '
        "summary.requests, summary.duration / 1e6, latency:percentile(50), "
        "latency:percentile(90), latency:percentile(99), summary.errors.status, "
        "summary.errors.connect + summary.errors.read + summary.errors.write + "
        "summary.errors.timeout))\nend"
    )
    return "\n".join(lines) + "\n"


def _figures(raw: dict[str, Any], connections: int) -> dict[str, Any]:
    return {
        "connections": connections,
        "requests": raw["requests"],
        "throughput_rps": round(raw["requests"] / raw["seconds"], 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "non_2xx": raw["non_2xx"] + raw["socket_errors"],
    }


def run(
    url: str,
    bodies: list[str],
    headers: dict[str, str],
    connections: int,
    seconds: float,
) -> dict[str, Any]:
    """Load `url` with `connections` connections for `seconds`."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(json.dumps({"bodies": bodies, "headers": headers}))
        if WRK:
            script = Path(tmp) / "load.lua"
            script.write_text(_lua(bodies, headers))
            command = [
                WRK,
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ]
        else:
            command = [sys.executable, "-m", "bench.load", url, str(spec), str(connections)]
            command.append(str(seconds))
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"^JSON (.*)$", out, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"the load generator printed no figures:\n{out}")
    return _figures(json.loads(match.group(1)), connections)


async def _generate(url: str, spec: dict[str, Any], connections: int, seconds: float) -> None:
    bodies: list[bytes] = [b.encode() for b in spec["bodies"]]
    headers = {"content-type": "application/json", **spec["headers"]}
    latencies: list[float] = []
    non_2xx = socket_errors = 0
    counter = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10) as http:
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal counter, non_2xx, socket_errors
            while time.perf_counter() < deadline:
                counter += 1
                body = bodies[counter % len(bodies)]
                start = time.perf_counter()
                try:
                    response = await http.post(url, content=body)
                except httpx.TransportError:
                    socket_errors += 1  # as wrk counts them: the run goes on
                    continue
                latencies.append(time.perf_counter() - start)
                non_2xx += not 200 <= response.status_code < 300

        begin = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.perf_counter() - begin
    ordered = sorted(latencies) or [0.0]

    def pct(q: float) -> int:
        return int(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e6)

    figures = {
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_us": pct(0.5),
        "p90_us": pct(0.9),
        "p99_us": pct(0.99),
        "non_2xx": non_2xx,
        "socket_errors": socket_errors,
    }
    print("JSON " + json.dumps(figures))


if __name__ == "__main__":
    _url, _spec, _connections, _seconds = sys.argv[1:5]
    asyncio.run(
        _generate(_url, json.loads(Path(_spec).read_text()), int(_connections), float(_seconds))
    )
