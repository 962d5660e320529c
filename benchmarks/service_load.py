"""Service load: predictions through HTTP at fixed request rates against a local server.

For each database (SQLite, and PostgreSQL when a URL is given) a real `medora serve` process is
started on loopback with a freshly trained and approved Framingham model. An open-loop client
sends authenticated predictions at 50, 100 and 200 requests/s for 60 s each; every latency is
measured from the moment the request was *scheduled*, so a server that falls behind cannot
hide its queue (no coordinated omission). The baseline, measured in the same run, is one
prediction made in-process by the library (validation, calibrated risk, explanation) without
HTTP or a database. Target: p99 < 50 ms at 100 requests/s on 2 cores, zero errors.

The client shares the machine's cores with the server, as a real loopback test does.

    python benchmarks/service_load.py                               # SQLite, 50/100/200 rps, 60 s
    python benchmarks/service_load.py --postgres-url postgresql://medora:medora@127.0.0.1/bench
    python benchmarks/service_load.py --rates 100 --duration 10     # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from rich.console import Console
from rich.table import Table

from medora.data.tabular import validate_features
from medora.explain.attributions import top_contributions
from medora.registry.store import ModelStore
from medora.tasks import get_task
from medora.train.run import RunConfig, train_task

RESULTS = Path(__file__).parent / "results"
TASK = "cardio.framingham_chd"
TARGET_P99_MS, TARGET_RATE = 50.0, 100
console = Console()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def medora(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    command = [str(Path(sys.executable).parent / "medora"), *args]
    return subprocess.run(command, env=env, input=stdin, capture_output=True, text=True,
                          check=True).stdout


@contextmanager
def running_server(database_url: str, env: dict[str, str]):
    port = free_port()
    log = Path(env["MEDORA_HOME"]) / f"server-{port}.log"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "medora"), "serve", "--db", database_url, "--port",
         str(port)], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"medora serve did not become healthy on {base}:\n"
                               f"{log.read_text()[-2000:]}")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def patient_rows(n: int) -> list[dict[str, object]]:
    """Real Framingham patients (test-like rows), sent as JSON inputs."""
    _, x, _ = get_task(TASK).load_xy()
    rows = x.sample(n=n, replace=True, random_state=0)
    return [{k: (None if np.isnan(v) else float(v)) for k, v in row.items()}
            for row in rows.to_dict("records")]


async def open_loop(base: str, api_key: str, rate: int, duration: float,
                    rows: list[dict[str, object]]) -> dict[str, float]:
    """Send ``rate`` requests/s for ``duration`` s; latency counts from the scheduled time."""
    total = int(rate * duration)
    latencies = np.full(total, np.nan)
    statuses = np.zeros(total, dtype=int)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": api_key},
                                 limits=limits, timeout=30) as client:
        start = time.perf_counter() + 0.5

        async def one(i: int) -> None:
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            try:
                response = await client.post(f"/predict/{TASK}", json={
                    "patient_id": f"LOAD-{i:06d}", "inputs": rows[i % len(rows)]})
                statuses[i] = response.status_code
            except httpx.HTTPError:
                statuses[i] = -1
            latencies[i] = (time.perf_counter() - scheduled) * 1000

        await asyncio.gather(*(one(i) for i in range(total)))
    ok = (statuses >= 200) & (statuses < 300)
    return {"rate": rate, "duration_s": duration, "requests": total,
            "errors": int((~ok).sum()),
            "p50_ms": round(float(np.nanpercentile(latencies, 50)), 2),
            "p90_ms": round(float(np.nanpercentile(latencies, 90)), 2),
            "p99_ms": round(float(np.nanpercentile(latencies, 99)), 2),
            "max_ms": round(float(np.nanmax(latencies)), 2)}


def in_process_baseline(store: ModelStore, rows: list[dict[str, object]]) -> dict[str, float]:
    """The same prediction without HTTP or a database, the model already loaded (as the
    service caches it): validation, calibrated risk with its interval, and the explanation."""
    task = get_task(TASK)
    model = store.load(store.get(TASK))
    timings = []
    for i in range(300):
        frame = pd.DataFrame([{k: ("" if v is None else str(v))
                               for k, v in rows[i % len(rows)].items()}])
        started = time.perf_counter()
        x = validate_features(frame, task.features, file_lines=False)
        model.predict_risk(x)
        top_contributions(model.explain(x).iloc[0], x.iloc[0])
        timings.append((time.perf_counter() - started) * 1000)
    timings = np.asarray(timings[20:])  # warm-up
    return {"p50_ms": round(float(np.percentile(timings, 50)), 2),
            "p99_ms": round(float(np.percentile(timings, 99)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--postgres-url", default=os.environ.get("MEDORA_BENCH_POSTGRES_URL"),
                        help="also measure on this (empty) PostgreSQL database")
    args = parser.parse_args()

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
    results: dict[str, list[dict[str, float]]] = {}
    for name, url in databases.items():
        medora("users", "add", "loadbench", "--role", "data_scientist", "--password-stdin",
               "--db", url, env=env, stdin="load-bench-password\n")
        key = medora("users", "key", "loadbench", "--db", url, env=env).strip().split()[-1]
        with running_server(url, env) as base:
            token = httpx.post(f"{base}/auth/token", data={
                "username": "loadbench", "password": "load-bench-password"}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            httpx.post(f"{base}/models/sync", headers=headers).raise_for_status()
            httpx.post(f"{base}/models/{TASK}/versions/1/approve", headers=headers,
                       json={"reason": "load benchmark"}).raise_for_status()
            results[name] = []
            for rate in args.rates:
                console.print(f"{name}: {rate} requests/s for {args.duration:g} s")
                outcome = asyncio.run(open_loop(base, key, rate, args.duration, rows))
                outcome["p50_vs_in_process"] = round(outcome["p50_ms"] / baseline["p50_ms"], 2)
                results[name].append(outcome)

    target = {name: next((r for r in runs if r["rate"] == TARGET_RATE), None)
              for name, runs in results.items()}
    verdicts = {name: None if r is None else bool(r["p99_ms"] < TARGET_P99_MS and
                                                  r["errors"] == 0)
                for name, r in target.items()}
    document = {"benchmark": "service_load", "created_at": datetime.now(UTC).isoformat(
        timespec="seconds"), "cpu_count": os.cpu_count(), "task": TASK,
        "in_process_baseline": baseline, "results": results,
        "target": f"p99 < {TARGET_P99_MS:g} ms at {TARGET_RATE} requests/s, zero errors",
        "meets_target": verdicts}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "service_load.json").write_text(json.dumps(document, indent=2))

    figure = Figure(figsize=(6.5, 3.6), layout="constrained")
    ax = figure.subplots()
    for name, runs in results.items():
        rates = [r["rate"] for r in runs]
        ax.plot(rates, [r["p50_ms"] for r in runs], marker="o", label=f"{name} p50")
        ax.plot(rates, [r["p99_ms"] for r in runs], marker="s", linestyle="--",
                label=f"{name} p99")
    ax.axhline(TARGET_P99_MS, color="0.4", linestyle=":", label="p99 target")
    ax.axhline(baseline["p50_ms"], color="0.7", linestyle="-", label="in-process p50")
    ax.set(xlabel="offered load (requests/s)", ylabel="latency (ms)", yscale="log",
           title="Prediction latency through HTTP (open loop)")
    ax.legend(fontsize=8)
    figure.savefig(RESULTS / "service_load.png", dpi=120)

    table = Table(title=f"service load ({os.cpu_count()} cores, client and server together)")
    for column in ("database", "rate/s", "requests", "errors", "p50 ms", "p99 ms", "max ms",
                   "p50 / in-process"):
        table.add_column(column)
    for name, runs in results.items():
        for r in runs:
            table.add_row(name, str(r["rate"]), str(r["requests"]), str(r["errors"]),
                          str(r["p50_ms"]), str(r["p99_ms"]), str(r["max_ms"]),
                          str(r["p50_vs_in_process"]))
    console.print(table)
    for name, verdict in verdicts.items():
        console.print(f"{name}: target {document['target']}: "
                      + ("not measured" if verdict is None else "met" if verdict else "MISSED"))
    console.print(f"saved {RESULTS / 'service_load.json'} and {RESULTS / 'service_load.png'}")


if __name__ == "__main__":
    main()
