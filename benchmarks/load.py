"""Load test of `sspred serve` on loopback: a fixed number of requests from concurrent clients, every answer checked.

Starts `python -m sspred serve` on a free loopback port in a subprocess, then sends --requests requests from
--clients concurrent httpx clients (asyncio) under an overall --time-limit. Inputs are real CB513 chains. The
mix, fixed by --seed:

    70%  POST /api/predict, JSON body, one chain        -> states and probabilities equal the library's, exactly
    10%  POST /api/predict, FASTA body, three chains    -> states equal the library's, ids in order
    10%  GET  /api/predict.ss2?sequence=...             -> text equal to sspred.io.formats' .ss2 for the chain
    10%  POST a chain with one residue replaced by '1'  -> 422 naming the record and the position

Prints throughput and latency percentiles; exits 1 if any answer is wrong, any is 5xx, or the time limit hits.
--workers N serves with `sspred serve --workers N` (N processes).

    PYTHONPATH=src python benchmarks/load.py -m default --requests 3000 --clients 8
    PYTHONPATH=src python benchmarks/load.py -m default --requests 300 --clients 8 --workers 2
    python benchmarks/run.py load --out results.json                       # -m default, beside the machine

Prints the figures as JSON; ``measure`` returns them.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

import sspred
from sspred.extras import require
from sspred.io import datasets

#: The source folder of the sspred this process imported: the server runs the same code.
SRC = Path(sspred.__file__).resolve().parents[1]

#: Share of each request kind, in the order of KINDS.
KINDS = ("json", "fasta", "ss2", "bad")
SHARES = (0.7, 0.1, 0.1, 0.1)
#: Chains sampled from; longer ones are cut so a request's size stays typical of a single protein.
N_CHAINS, MAX_LEN = 200, 600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expected(predictor, chain) -> dict:
    """The library's answer for one chain, through the path the service takes (sspred.load, one batch)."""
    (pred,) = predictor.predict({chain.id: chain.sequence.upper()})
    out = io.StringIO()
    sspred.write([pred], out, format="ss2")
    return {"states": pred.states, "probs": pred.to_dict()["probabilities"], "ss2": out.getvalue()}


def plan(n: int, chains: list, rng: np.random.Generator) -> list[tuple[str, list[int], int]]:
    """(kind, chain indices, bad position) for each request."""
    kinds = rng.choice(len(KINDS), size=n, p=SHARES)
    out = []
    for k in kinds:
        kind = KINDS[k]
        picks = rng.choice(len(chains), size=3 if kind == "fasta" else 1, replace=False).tolist()
        bad = int(rng.integers(len(chains[picks[0]].sequence))) if kind == "bad" else -1
        out.append((kind, picks, bad))
    return out


async def one(client: httpx.AsyncClient, job, chains, want) -> tuple[bool, int, str]:
    """Send one request; (answer correct, status, what was wrong)."""
    kind, picks, bad = job
    c = chains[picks[0]]
    if kind == "json":
        r = await client.post("/api/predict", json={"sequences": [{"id": c.id, "sequence": c.sequence}]})
        if r.status_code != 200:
            return False, r.status_code, r.text[:200]
        pred = r.json()["predictions"][0]
        ok = pred["states"] == want[picks[0]]["states"] and pred["probabilities"] == want[picks[0]]["probs"]
        return ok, r.status_code, "" if ok else f"{c.id}: wrong prediction"
    if kind == "fasta":
        text = "".join(f">{chains[i].id}\n{chains[i].sequence}\n" for i in picks)
        r = await client.post("/api/predict", content=text, headers={"Content-Type": "text/plain"})
        if r.status_code != 200:
            return False, r.status_code, r.text[:200]
        preds = r.json()["predictions"]
        ok = [(p["id"], p["states"]) for p in preds] == [(chains[i].id, want[i]["states"]) for i in picks]
        return ok, r.status_code, "" if ok else "wrong FASTA batch"
    if kind == "ss2":
        r = await client.get("/api/predict.ss2", params={"sequence": c.sequence, "id": c.id})
        ok = r.status_code == 200 and r.text == want[picks[0]]["ss2"]
        return ok, r.status_code, "" if ok else f"{c.id}: wrong .ss2"
    seq = c.sequence[:bad] + "1" + c.sequence[bad + 1:]
    r = await client.post("/api/predict", json={"sequences": [{"id": c.id, "sequence": seq}]})
    err = r.json().get("error", {}) if r.headers.get("content-type") == "application/json" else {}
    ok = r.status_code == 422 and err.get("record") == c.id and err.get("position") == bad + 1
    return ok, r.status_code, "" if ok else f"{c.id}: bad input not refused as expected ({r.status_code})"


async def run(base: str, jobs, chains, want, clients: int, time_limit: float):
    queue: asyncio.Queue = asyncio.Queue()
    for j in jobs:
        queue.put_nowait(j)
    latencies, statuses, wrong = [], [], []

    async def worker():
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            while True:
                try:
                    job = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                try:
                    ok, status, why = await one(client, job, chains, want)
                except httpx.HTTPError as exc:
                    ok, status, why = False, 0, f"transport error: {exc!r}"
                latencies.append(time.perf_counter() - t0)
                statuses.append(status)
                if not ok:
                    wrong.append(why)

    health: list[float] = []
    finished = asyncio.Event()

    async def probe():
        """/healthz every 50 ms while the load runs: shows whether predictions stall the event loop."""
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            while not finished.is_set():
                t0 = time.perf_counter()
                r = await client.get("/healthz")
                health.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    wrong.append(f"/healthz answered {r.status_code}")
                await asyncio.sleep(0.05)

    async def load():
        await asyncio.gather(*(worker() for _ in range(clients)))
        finished.set()

    start = time.perf_counter()
    timed_out = False
    try:
        await asyncio.wait_for(asyncio.gather(load(), probe()), time_limit)
    except asyncio.TimeoutError:
        timed_out = True
    return time.perf_counter() - start, np.array(latencies), np.array(statuses), wrong, timed_out, np.array(health)


def measure(quick: bool = False, model: str = "default", requests: int = 3000, clients: int = 8,
            time_limit: float = 300.0, data_dir: str | None = None, seed: int = 0, workers: int = 1) -> dict[str, Any]:
    """Throughput, latency and every answer's check; ``quick``: -m fast, 40 requests from 2 clients."""
    if quick:
        model, requests, clients, time_limit = "fast", 40, 2, 120.0
    require("sspred.serve.app", "serve", "benchmarks/load.py")
    predictor = sspred.load(model)
    chains = []
    for c in datasets.load("cb513", "test", data_dir)[:N_CHAINS]:
        c.sequence, c.codes = c.sequence[:MAX_LEN], c.codes[:MAX_LEN]
        chains.append(c)
    want = [expected(predictor, c) for c in chains]
    jobs = plan(requests, chains, np.random.default_rng(seed))

    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    server = subprocess.Popen([sys.executable, "-m", "sspred", "serve", "--port", str(port), "-m", str(model),
                               "--log-level", "warning", "--workers", str(workers)], env=env,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("sspred serve did not start")
            time.sleep(0.2)
        elapsed, lat, status, wrong, timed_out, health = asyncio.run(
            run(base, jobs, chains, want, clients, time_limit))
    finally:
        server.terminate()
        server.wait(30)

    done = lat.size
    residues = sum(sum(len(chains[i].sequence) for i in job[1]) for job in jobs[:done])
    p50, p90, p99 = (np.percentile(lat, q) * 1000 for q in (50, 90, 99)) if done else (float("nan"),) * 3
    return {"model": predictor.model_name, "workers": workers, "clients": clients, "requests": requests,
            "done": done, "seconds": round(elapsed, 2),
            "mix": {k: sum(1 for j in jobs[:done] if j[0] == k) for k in KINDS},
            "requests_per_s": round(done / elapsed, 1), "residues_per_s": round(residues / elapsed),
            "latency_ms": {"p50": round(p50, 1), "p90": round(p90, 1), "p99": round(p99, 1),
                           "max": round(float(lat.max()) * 1000, 1) if done else None},
            "healthz_ms": {"probes": int(health.size),
                           "p50": round(float(np.percentile(health, 50)) * 1000, 1) if health.size else None,
                           "p99": round(float(np.percentile(health, 99)) * 1000, 1) if health.size else None,
                           "max": round(float(health.max()) * 1000, 1) if health.size else None},
            "status_codes": {str(int(s)): int((status == s).sum()) for s in np.unique(status)},
            "server_errors": int((status >= 500).sum()), "wrong_answers": len(wrong), "wrong": wrong[:5],
            "timed_out": timed_out,
            "ok": not wrong and not (status >= 500).any() and not timed_out and done == requests}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="-m fast, 40 requests from 2 clients")
    ap.add_argument("-m", "--model", default="default", help="model name or file served")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds for the whole run")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1, help="worker processes of sspred serve")
    result = measure(**vars(ap.parse_args()))
    print(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
