"""Service load: predictions through HTTP at fixed request rates against a local server.

For each database (SQLite, and PostgreSQL when a URL is given) a real `medora serve` process is
started on loopback with a freshly trained and approved Framingham model. An open-loop client
sends authenticated predictions at 50, 100 and 200 requests/s for 60 s each; every latency is
measured from the moment the request was *scheduled*, so a server that falls behind cannot
hide its queue (no coordinated omission). The baseline, measured in the same run, is one
prediction made in-process by the library (validation, calibrated risk, explanation) without
HTTP or a database. Target: p99 < 50 ms at 100 requests/s on 2 cores, zero errors.

The client shares the machine's cores with the server, as a real loopback test does, so it is
kept lean: requests are encoded before the run and sent over keep-alive connections with plain
asyncio streams (a few tens of microseconds each), not through an HTTP library. The server's
CPU time per request (its processes' user + system time over the step, from /proc) is reported
beside the latencies.

    python benchmarks/service_load.py                               # SQLite, 50/100/200 rps, 60 s
    python benchmarks/service_load.py --postgres-url postgresql://medora:medora@127.0.0.1/bench
    python benchmarks/service_load.py --rates 100 --duration 10     # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from medora.serve.launch import HOST, MEDORA, ServiceProcess, running_service

RESULTS = Path(__file__).parent / "results"
TASK = "cardio.framingham_chd"
TARGET_P99_MS, TARGET_RATE = 50.0, 100
USER, PASSWORD = "loadbench", "load-bench-password"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def medora(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    command = [str(MEDORA), *args]
    return subprocess.run(command, env=env, input=stdin, capture_output=True, text=True,
                          check=True).stdout


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its living descendants (Linux /proc)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in
                            (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all processes have spent busy since boot (Linux /proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def patient_rows(n: int) -> list[dict[str, object]]:
    """Real Framingham patients (test-like rows), sent as JSON inputs."""
    from medora.core.registry import get_task

    _, x, _ = get_task(TASK).load_xy()
    rows = x.sample(n=n, replace=True, random_state=0)
    return [{k: (None if np.isnan(v) else float(v)) for k, v in row.items()}
            for row in rows.to_dict("records")]


def encoded_requests(server: ServiceProcess, api_key: str, rows: list[dict[str, object]],
                     count: int, prefix: str) -> list[bytes]:
    """``count`` complete HTTP/1.1 prediction requests, one patient id each."""
    head = (f"POST /predict/{TASK} HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n"
            f"X-API-Key: {api_key}\r\nContent-Type: application/json\r\n")
    requests = []
    for i in range(count):
        body = json.dumps({"patient_id": f"{prefix}-{i:06d}",
                           "inputs": rows[i % len(rows)]}).encode()
        requests.append(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return requests


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Status and whether the connection stays open; the body is read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, keep_alive = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            keep_alive = False
        elif name == b"transfer-encoding":
            raise ValueError("chunked responses are not expected")
    await reader.readexactly(length)
    return status, keep_alive


async def open_loop(server: ServiceProcess, requests: list[bytes], rate: float, duration: float,
                    timeout: float = 30.0, max_connections: int = 2000) -> dict[str, Any]:
    """Send ``rate`` requests/s for ``duration`` s whatever the answers' pace; each latency
    counts from the request's scheduled time. A request takes an idle keep-alive connection
    (most recently used first) or opens one."""
    loop = asyncio.get_running_loop()
    total = int(rate * duration)
    latencies = np.full(total, np.nan)
    statuses = np.zeros(total, dtype=int)
    errors: Counter[str] = Counter()
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    slots = asyncio.Semaphore(max_connections)

    async def one(i: int, scheduled: float) -> None:
        async with slots:
            connection = None
            while idle and connection is None:
                candidate = idle.pop()
                if candidate[0].at_eof():  # closed by the server while idle
                    candidate[1].close()
                else:
                    connection = candidate
            try:
                if connection is None:
                    connection = await asyncio.open_connection(HOST, server.port)
                connection[1].write(requests[i % len(requests)])
                async with asyncio.timeout(timeout):
                    status, keep_alive = await _read_response(connection[0])
            except (OSError, EOFError, TimeoutError, ValueError) as error:
                statuses[i] = -1
                errors[type(error).__name__] += 1
                if connection is not None:
                    connection[1].close()
            else:
                statuses[i] = status
                if not 200 <= status < 300:
                    errors[f"HTTP {status}"] += 1
                if keep_alive:
                    idle.append(connection)
                else:
                    connection[1].close()
            latencies[i] = (loop.time() - scheduled) * 1000

    load_before = os.getloadavg()[0]
    cpu_before, client_before = process_tree_cpu_seconds(server.pid), time.process_time()
    busy_before, wall_before = machine_busy_seconds(), time.monotonic()
    start = loop.time() + 0.2
    tasks = []
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    server_cpu = process_tree_cpu_seconds(server.pid) - cpu_before
    client_cpu = time.process_time() - client_before
    # Everything else the machine ran meanwhile (other users' work, and the PostgreSQL server
    # when it is local), in cores: how much of the 2 cores the measurement really had.
    others = (machine_busy_seconds() - busy_before - server_cpu - client_cpu) / (
        time.monotonic() - wall_before)
    for _, writer in idle:
        writer.close()
    ok = (statuses >= 200) & (statuses < 300)
    return {"rate": rate, "duration_s": duration, "requests": total,
            "load_average_before": round(load_before, 2),
            "errors": int((~ok).sum()), "error_kinds": dict(errors),
            "p50_ms": round(float(np.nanpercentile(latencies, 50)), 2),
            "p90_ms": round(float(np.nanpercentile(latencies, 90)), 2),
            "p99_ms": round(float(np.nanpercentile(latencies, 99)), 2),
            "max_ms": round(float(np.nanmax(latencies)), 2),
            "server_cpu_ms_per_request": round(server_cpu * 1000 / total, 2),
            "client_cpu_ms_per_request": round(client_cpu * 1000 / total, 3),
            "other_processes_cores": round(max(others, 0.0), 2)}


def in_process_baseline(store: Any, rows: list[dict[str, object]]) -> dict[str, float]:
    """The same prediction without HTTP or a database, the model already loaded (as the
    service caches it) and torch on one thread (as each server worker runs): validation,
    calibrated risk with its interval, and the explanation."""
    import torch

    from medora.core.registry import get_task
    from medora.data.tabular import validate_features
    from medora.explain.attributions import top_contributions

    task = get_task(TASK)
    model = store.load(store.get(TASK))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    timings = []
    try:
        for i in range(300):
            frame = pd.DataFrame([{k: ("" if v is None else str(v))
                                   for k, v in rows[i % len(rows)].items()}])
            started = time.perf_counter()
            x = validate_features(frame, task.features, file_lines=False)
            model.predict_risk(x)
            top_contributions(model.explain(x).iloc[0], x.iloc[0])
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        torch.set_num_threads(threads)
    measured = np.asarray(timings[20:])  # warm-up
    return {"p50_ms": round(float(np.percentile(measured, 50)), 2),
            "p99_ms": round(float(np.percentile(measured, 99)), 2)}


def prepare_database(url: str, env: dict[str, str]) -> str:
    """The load user (a data scientist, so it may also approve) and its API key."""
    medora("users", "add", USER, "--role", "data_scientist", "--password-stdin", "--db", url,
           env=env, stdin=PASSWORD + "\n")
    return medora("users", "key", USER, "--db", url, env=env).strip().split()[-1]


def approve_model(server: ServiceProcess) -> None:
    token = httpx.post(f"{server.url}/auth/token",
                       data={"username": USER, "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    httpx.post(f"{server.url}/models/sync", headers=headers).raise_for_status()
    httpx.post(f"{server.url}/models/{TASK}/versions/1/approve", headers=headers,
               json={"reason": "load benchmark"}).raise_for_status()


def measure(database: str, url: str, env: dict[str, str], api_key: str, args: argparse.Namespace,
            rows: list[dict[str, object]], home: Path) -> list[dict[str, Any]]:
    from rich.console import Console

    console = Console()
    log = home / f"server-{database}.log"
    env = {**env, "MEDORA_DATABASE_URL": url}
    # Approved before the measured server starts, so that every worker loads the model at
    # start-up, as in service.
    with running_service([], env=env, log=log) as server:
        approve_model(server)
    runs = []
    with running_service(["--workers", str(args.workers)], env=env, log=log) as server:
        # A short unmeasured warm-up (first queries, first model calls in each worker).
        warm = encoded_requests(server, api_key, rows, int(30 * args.warmup), "WARM")
        asyncio.run(open_loop(server, warm, 30, args.warmup))
        for rate in args.rates:
            console.print(f"{database}: {rate} requests/s for {args.duration:g} s "
                          f"({args.workers} worker{'s' * (args.workers > 1)})")
            requests = encoded_requests(server, api_key, rows, int(rate * args.duration),
                                        f"LOAD{rate}")
            outcome = asyncio.run(open_loop(server, requests, rate, args.duration))
            console.print(f"  p50 {outcome['p50_ms']} ms, p99 {outcome['p99_ms']} ms, "
                          f"errors {outcome['errors']} {outcome['error_kinds'] or ''}, "
                          f"server CPU {outcome['server_cpu_ms_per_request']} ms/request, "
                          f"other processes {outcome['other_processes_cores']} cores")
            runs.append(outcome)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds of unmeasured requests at 30/s before the first rate")
    parser.add_argument("--workers", type=int, default=2,
                        help="`medora serve --workers` (default 2, one per core here)")
    parser.add_argument("--postgres-url", default=os.environ.get("MEDORA_BENCH_POSTGRES_URL"),
                        help="also measure on this (empty) PostgreSQL database")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="folder for service_load.json and .png")
    args = parser.parse_args()

    from matplotlib.figure import Figure
    from rich.console import Console
    from rich.table import Table

    from medora.areas.risk.run import train_task
    from medora.core.registry import get_task
    from medora.registry.store import ModelStore
    from medora.train.run import RunConfig

    console = Console()
    home = Path(tempfile.mkdtemp(prefix="medora-load-"))
    env = {**os.environ, "MEDORA_HOME": str(home), "MEDORA_SECRET_KEY": os.urandom(32).hex()}
    store = ModelStore(home / "registry")
    console.print("training a quick Framingham model for the server to load")
    train_task(get_task(TASK), RunConfig(quick=True, progress=False, out_dir=home / "run"),
               store=store)
    rows = patient_rows(500)
    baseline = in_process_baseline(store, rows)
    console.print(f"in-process baseline: p50 {baseline['p50_ms']} ms, p99 {baseline['p99_ms']} ms")

    databases = {"sqlite": f"sqlite:///{home / 'load.db'}"}
    if args.postgres_url:
        databases["postgresql"] = args.postgres_url
    results: dict[str, list[dict[str, Any]]] = {}
    for name, url in databases.items():
        api_key = prepare_database(url, env)
        results[name] = measure(name, url, env, api_key, args, rows, home)
        for runs in results[name]:
            runs["p50_vs_in_process"] = round(runs["p50_ms"] / baseline["p50_ms"], 2)

    target = {name: next((r for r in runs if r["rate"] == TARGET_RATE), None)
              for name, runs in results.items()}
    verdicts = {name: None if r is None else bool(r["p99_ms"] < TARGET_P99_MS and
                                                  r["errors"] == 0)
                for name, r in target.items()}
    load = os.getloadavg()
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                         capture_output=True, text=True).stdout.strip()
    document = {"benchmark": "service_load", "created_at": datetime.now(UTC).isoformat(
        timespec="seconds"), "cpu_count": os.cpu_count(), "task": TASK,
        "commit": git or None, "workers": args.workers, "duration_s": args.duration,
        "load_average_at_end": [round(value, 2) for value in load],
        "in_process_baseline": baseline, "results": results,
        "target": f"p99 < {TARGET_P99_MS:g} ms at {TARGET_RATE} requests/s, zero errors",
        "meets_target": verdicts}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "service_load.json").write_text(json.dumps(document, indent=2) + "\n")

    figure = Figure(figsize=(6.5, 3.6), layout="constrained")
    ax = figure.subplots()
    for name, runs in results.items():
        rates = [r["rate"] for r in runs]
        ax.plot(rates, [r["p50_ms"] for r in runs], marker="o", label=f"{name} p50")
        ax.plot(rates, [r["p99_ms"] for r in runs], marker="s", linestyle="--",
                label=f"{name} p99")
    ax.axhline(TARGET_P99_MS, color="0.4", linestyle=":", label="p99 target")
    ax.axhline(baseline["p50_ms"], color="0.7", linestyle="-", label="in-process p50")
    others = [r["other_processes_cores"] for runs in results.values() for r in runs]
    ax.set(xlabel="offered load (requests/s)", ylabel="latency (ms)", yscale="log",
           title=f"Prediction latency through HTTP (open loop, {args.workers} workers)\n"
                 f"other processes on the {os.cpu_count()} cores: {min(others):.1f}-"
                 f"{max(others):.1f} cores")
    ax.legend(fontsize=8)
    figure.savefig(args.out / "service_load.png", dpi=120)

    table = Table(title=f"service load ({os.cpu_count()} cores, client and server together)")
    for column in ("database", "rate/s", "requests", "errors", "p50 ms", "p99 ms", "max ms",
                   "server CPU ms/req", "other processes (cores)", "p50 / in-process"):
        table.add_column(column)
    for name, runs in results.items():
        for r in runs:
            table.add_row(name, str(r["rate"]), str(r["requests"]), str(r["errors"]),
                          str(r["p50_ms"]), str(r["p99_ms"]), str(r["max_ms"]),
                          str(r["server_cpu_ms_per_request"]), str(r["other_processes_cores"]),
                          str(r["p50_vs_in_process"]))
    console.print(table)
    for name, verdict in verdicts.items():
        console.print(f"{name}: target {document['target']}: "
                      + ("not measured" if verdict is None else "met" if verdict else "MISSED"))
    console.print(f"saved {args.out / 'service_load.json'} and {args.out / 'service_load.png'}")


if __name__ == "__main__":
    main()
