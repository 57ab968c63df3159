# Study run at commit 628c687 (its last change; in benchmarks/ until 383da78). Results: BENCHMARKS.md,
# "Peers, side by side".
"""Peers side by side: ReProf, GOR IV and sspred's built-in models on NEW364, CB513 and TS115.

Every predictor sees the same chains (single sequences, no alignments) on the same machine in the same
run, and is scored by sspred's own code (``sspred.evaluation``: pooled Q3 over the scored residues,
SOV'99 as the chain mean), so the numbers differ only by the predictor.

    PYTHONPATH=src python docs/experiments/peers.py [--sets netsurfp2 cb513 ts115] [--limit N | --sample N --seed S]
        [--predictors reprof gor4 ...] [--jobs 2] [--scratch DIR] [--out results.json] [--markdown]

Peers (each skipped with a message when it is not installed):

* ``reprof``: ReProf (Hoenigschmid & Rost), the PHD/PROF line of neural predictors, from Debian
  (``apt-get install reprof``). Given a FASTA file it runs in single-sequence mode. It reads one
  sequence a file (its FASTA reader joins every record into one), so each chain gets its own file and
  process; the runs go ``--jobs`` at a time. Raw outputs are cached under ``--scratch`` by the
  sequence's SHA-1, with the time each run took, so a rerun costs nothing and still reports the
  measured times.
* ``gor4`` / ``gor4-ks267``: GOR IV (Garnier, Gibrat & Robson 1996), the information-theory method, from
  PyPI (``pip install gor4``, MIT), with its 2016 PDB database and with the original 267-chain one.
* ``sspred:NAME``: ``sspred.load(NAME).predict`` for the built-in models.

Time per residue: ``wall`` is the seconds the predictor took over the set, ``cpu`` the CPU seconds it
used (every thread and child process), both over all residues predicted (scored or not). One-time
setup (loading a model, building GOR's tables, a warm-up call) is reported apart. For ReProf, whose
every run starts Perl and loads its networks, that start is part of each chain's cost, and its wall
is the sum of the per-chain runs, as if they ran one after another.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

import sspred
from sspred.alphabet import STATES3
from sspred.evaluation import score_states  # (the scoring `sspred evaluate` uses, on state strings)

#: The test sets, by the name sspred.load_data takes, and what the field calls them.
SET_LABELS = {"netsurfp2": "NEW364", "cb513": "CB513", "ts115": "TS115"}
#: The built-in models compared.
SSPRED_MODELS = ("default", "accurate", "fast")
#: ReProf's column of 3-state calls (its output header: "PHEL: H = Helix, E = Extended/Sheet, L = Loop").
REPROF_STATE_COLUMN = "PHEL"
#: ReProf's state letters -> ours (its loop L is our coil C).
REPROF_TO_HEC = {"H": "H", "E": "E", "L": "C"}
#: Where raw peer outputs are cached between runs.
DEFAULT_SCRATCH = Path(tempfile.gettempdir()) / "sspred-peers"
#: Two processes: the machine has two cores.
DEFAULT_JOBS = 2
#: Warm-up sequence for in-process predictors, so a first call's one-time costs land in setup.
WARMUP = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"


class PeerError(RuntimeError):
    """A peer failed on one chain; the message names the chain."""


@dataclass
class Run:
    """One predictor over one set: its H/E/C strings by chain id, and what it cost."""

    states: dict[str, str]
    wall: float
    cpu: float
    setup: float = 0.0
    refused: dict[str, str] = field(default_factory=dict)  # chain id -> why
    notes: list[str] = field(default_factory=list)


# --- ReProf ------------------------------------------------------------------------------------------------

def parse_reprof(text: str, source: str = "<reprof output>") -> dict[str, str]:
    """ReProf's output table -> {"residues": one letter a residue, "states": H/E/C a residue}.

    The file starts with '#' lines that describe the columns, then a tab-separated header row
    (``No AA PHEL RI_S pH pE pL ...``) and one row per residue, numbered from 1.
    """
    rows = [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not rows or rows[0][:2] != ["No", "AA"] or REPROF_STATE_COLUMN not in rows[0]:
        raise ValueError(f"{source}: no ReProf table header (a row starting 'No\\tAA' with {REPROF_STATE_COLUMN})")
    col = rows[0].index(REPROF_STATE_COLUMN)
    residues, states = [], []
    for n, row in enumerate(rows[1:], start=1):
        if len(row) <= col or row[0] != str(n):
            raise ValueError(f"{source}: residue row {n} is malformed: {chr(9).join(row)!r}")
        if row[col] not in REPROF_TO_HEC:
            raise ValueError(f"{source}: residue {n}: unknown {REPROF_STATE_COLUMN} state {row[col]!r}")
        residues.append(row[1])
        states.append(REPROF_TO_HEC[row[col]])
    return {"residues": "".join(residues), "states": "".join(states)}


def reprof_available() -> str | None:
    """None when ReProf can run here, else why not."""
    return None if shutil.which("reprof") else "`reprof` is not on PATH (Debian: apt-get install reprof)"


def _timed_run(cmd: list[str]) -> tuple[int, str, float, float]:
    """Run ``cmd``; (exit code, stderr, wall seconds, CPU seconds of that child alone, from wait4)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        # wait4 rather than proc.wait(): it gives this child's own rusage, which RUSAGE_CHILDREN cannot
        # while another run is going on in parallel.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    return proc.returncode, stderr, wall, usage.ru_utime + usage.ru_stime


def reprof_cache_paths(sequence: str, cache: Path) -> tuple[Path, Path]:
    """Where ReProf's raw output for ``sequence`` and the times of its run are kept: by the sequence's SHA-1."""
    key = hashlib.sha1(sequence.encode()).hexdigest()
    return cache / f"{key}.reprof", cache / f"{key}.time.json"


def run_reprof_chain(chain_id: str, sequence: str, cache: Path) -> tuple[str, float, float, bool]:
    """ReProf on one sequence, through the cache: (H/E/C states, wall s, CPU s, whether it ran now).

    Files are named by the sequence's SHA-1, so a chain that appears twice (CB513 has such rows) and
    every rerun reads the stored output and the times measured when it ran.
    """
    out, timing = reprof_cache_paths(sequence, cache)
    key = out.stem
    ran = False
    if not (out.is_file() and timing.is_file()):
        cache.mkdir(parents=True, exist_ok=True)
        fasta = cache / f"{key}.fasta"
        fasta.write_text(f">{chain_id}\n{sequence}\n")
        partial = cache / f"{key}.reprof.part"
        code, stderr, wall, cpu = _timed_run(["reprof", "-i", str(fasta), "-o", str(partial)])
        if code != 0 or not partial.is_file():
            tail = stderr.strip().splitlines()[-1:] or ["no message"]
            what = f"exited with {code}" if code else "wrote no output"
            raise PeerError(f"chain {chain_id}: reprof {what}: {tail[0]}")
        partial.replace(out)
        timing.write_text(json.dumps({"wall": wall, "cpu": cpu, "id": chain_id}))
        ran = True
    parsed = parse_reprof(out.read_text(), str(out))
    if len(parsed["states"]) != len(sequence):
        raise PeerError(f"chain {chain_id}: reprof gave {len(parsed['states'])} states for {len(sequence)} residues")
    t = json.loads(timing.read_text())
    return parsed["states"], t["wall"], t["cpu"], ran


def predict_reprof(chains, scratch: Path, jobs: int) -> Run:
    cache = scratch / "reprof"
    run = Run(states={}, wall=0.0, cpu=0.0)
    # One run per distinct sequence: CB513 repeats chains (rows with different masks), and two runs of one
    # sequence at once would share its cache files. Each row is charged its sequence's run, as if run alone.
    first = {}
    for c in chains:
        first.setdefault(c.sequence, c.id)
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # threads that each wait on one reprof process
        futures = {seq: pool.submit(run_reprof_chain, chain_id, seq, cache) for seq, chain_id in first.items()}
        done = {}
        for seq, fut in futures.items():
            try:
                done[seq] = fut.result()
            except (PeerError, ValueError) as exc:
                done[seq] = exc
    for c in chains:
        result = done[c.sequence]
        if isinstance(result, Exception):
            run.refused[c.id] = str(result)
            continue
        states, wall, cpu, _ = result
        run.states[c.id] = states
        run.wall += wall
        run.cpu += cpu
    fresh = sum(1 for r in done.values() if not isinstance(r, Exception) and r[3])
    run.notes.append(f"{len(first)} distinct sequences; {fresh} ran now, the rest came from the cache in {cache}")
    return run


# --- GOR IV ------------------------------------------------------------------------------------------------

def gor4_available() -> str | None:
    try:
        import gor4  # noqa: F401
    except ImportError:
        return "the gor4 package is not installed (pip install gor4==1.0.1)"
    return None


#: GOR IV databases by peer name: None is the package's default (2016 PDB chains at 30% identity), else a
#: (sequences, structures) pair of files inside the package's data folder.
GOR4_DATABASES = {"gor4": None, "gor4-ks267": ("New_KS.267.seq", "New_KS.267.obs")}


def predict_gor4(chains, database) -> Run:
    import gor4

    t0 = time.perf_counter()
    if database is None:
        engine = gor4.GOR4()
    else:
        data = Path(gor4.__file__).parent / "data"
        engine = gor4.GOR4(str(data / database[0]), str(data / database[1]))
    setup = time.perf_counter() - t0
    run = Run(states={}, wall=0.0, cpu=0.0, setup=setup)
    t0, c0 = time.perf_counter(), time.process_time()
    for c in chains:
        run.states[c.id] = engine.predict(c.sequence)["predictions"]
    run.wall, run.cpu = time.perf_counter() - t0, time.process_time() - c0
    return run


# --- sspred ------------------------------------------------------------------------------------------------

def predict_sspred(chains, name: str) -> Run:
    t0 = time.perf_counter()
    predictor = sspred.load(name)
    predictor.predict(WARMUP)
    setup = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    preds = predictor.predict({c.id: c.sequence for c in chains})
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return Run(states={p.id: p.states for p in preds}, wall=wall, cpu=cpu, setup=setup)


@dataclass(frozen=True)
class Peer:
    """A predictor: why it cannot run here (None if it can), and how to run it on chains."""

    name: str
    missing: Callable[[], str | None]
    predict: Callable[[list, Path, int], Run]  # (chains, scratch, jobs) -> Run


def _always() -> None:
    return None


#: Every predictor, by the name --predictors takes, in the table's order.
PEERS = {
    "reprof": Peer("reprof", reprof_available, lambda chains, scratch, jobs: predict_reprof(chains, scratch, jobs)),
    **{name: Peer(name, gor4_available, lambda chains, scratch, jobs, db=db: predict_gor4(chains, db))
       for name, db in GOR4_DATABASES.items()},
    **{f"sspred:{m}": Peer(f"sspred:{m}", _always, lambda chains, scratch, jobs, m=m: predict_sspred(chains, m))
       for m in SSPRED_MODELS},
}


# --- scoring and the report --------------------------------------------------------------------------------

def score(chains, run: Run) -> dict:
    """Q3 and SOV'99 of a run over the chains it predicted, by sspred.evaluation's scoring; and its costs."""
    done = [c for c in chains if c.id in run.states]
    part = score_states(done, [run.states[c.id] for c in done], STATES3)
    residues = sum(len(c.sequence) for c in done)
    per_k = 1000.0 / residues if residues else float("nan")
    return {"q3": part["accuracy"], "sov99": part["sov99"]["overall"], "mcc": part["per_class"]["mcc"],
            "chains": len(done), "chains_given": len(chains), "scored_residues": part["residues"],
            "residues": residues, "wall_s": run.wall, "cpu_s": run.cpu, "setup_s": run.setup,
            "wall_s_per_1k": run.wall * per_k, "cpu_s_per_1k": run.cpu * per_k,
            "refused": run.refused, "notes": run.notes}


def select(chains, limit: int | None, sample: int | None, seed: int) -> list:
    if limit is not None:
        return chains[:limit]
    if sample is not None and sample < len(chains):
        keep = np.sort(np.random.default_rng(seed).choice(len(chains), size=sample, replace=False))
        return [chains[i] for i in keep]
    return chains


def markdown(results: dict) -> str:
    lines = ["| set | predictor | Q3 (%) | SOV'99 | wall s / 1,000 res | CPU s / 1,000 res | setup s | chains scored |",
             "|---|---|---|---|---|---|---|---|"]
    for set_name, by_peer in results["sets"].items():
        for peer, r in by_peer.items():
            sov = "" if r["sov99"] is None else f"{r['sov99']:.2f}"
            lines.append(f"| {SET_LABELS.get(set_name, set_name)} | {peer} | {r['q3']:.2f} | {sov} "
                         f"| {r['wall_s_per_1k']:.3g} | {r['cpu_s_per_1k']:.3g} | {r['setup_s']:.2f} "
                         f"| {r['chains']} / {r['chains_given']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", default=list(SET_LABELS), choices=list(SET_LABELS))
    ap.add_argument("--predictors", nargs="+", default=list(PEERS), choices=list(PEERS))
    ap.add_argument("--limit", type=int, help="the first N chains of each set (a quick check)")
    ap.add_argument("--sample", type=int, help="a seeded random N chains of each set")
    ap.add_argument("--seed", type=int, default=0, help="seed of --sample")
    ap.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help="ReProf processes at a time")
    ap.add_argument("--scratch", type=Path, default=DEFAULT_SCRATCH, help="cache of raw peer outputs")
    ap.add_argument("--data-dir", type=Path, help="data sets (default: $SSPRED_DATA)")
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args(argv)
    if args.limit is not None and args.sample is not None:
        ap.error("--limit and --sample exclude each other")

    peers = []
    for name in args.predictors:
        why = PEERS[name].missing()
        if why:
            print(f"skipping {name}: {why}", file=sys.stderr)
        else:
            peers.append(PEERS[name])

    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "command": " ".join(["python", "docs/experiments/peers.py", *(argv if argv is not None else sys.argv[1:])]),
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                           "load_average_at_start": os.getloadavg()},
               "selection": {"limit": args.limit, "sample": args.sample, "seed": args.seed},
               "sets": {}}
    for set_name in args.sets:
        chains = select(sspred.load_data(set_name, "test", args.data_dir), args.limit, args.sample, args.seed)
        results["sets"][set_name] = {}
        for peer in peers:
            print(f"{SET_LABELS[set_name]}: {peer.name} on {len(chains)} chains ...", file=sys.stderr, flush=True)
            r = score(chains, peer.predict(chains, args.scratch, args.jobs))
            results["sets"][set_name][peer.name] = r
            print(f"  Q3 {r['q3']:.2f}  SOV'99 {r['sov99']:.2f}  {r['wall_s_per_1k']:.3f} s / 1k res "
                  f"(CPU {r['cpu_s_per_1k']:.3f})  {r['chains']} / {len(chains)} chains", file=sys.stderr, flush=True)
            for chain_id, why in r["refused"].items():
                print(f"  refused {chain_id}: {why}", file=sys.stderr)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    if args.markdown:
        print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
