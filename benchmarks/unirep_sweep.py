"""UniRep states as input: the whole sweep in one command, made for one short session on a lent GPU.

    PYTHONPATH=src python benchmarks/unirep_sweep.py sweep --out OUT --device cuda [--budget 170] [--limit 0]

Phases, each writing what it found to OUT/results.json as it goes:
1. ``states``: the UniRep states of every set the sweep reads (netsurfp2 train and validation after their leak
   list, the dssp8 train and validation splits after theirs, and a seeded sample of conservation training chains),
   computed once by the torch engine and cached (sspred.unirep.states.cached_features; $SSPRED_CACHE).
2. ``train``: every variant of VARIANTS, in parallel processes, each time-boxed (TrainConfig.max_seconds) and
   scored on validation (benchmarks/multitask.py's ``validation``): one-hot against one-hot + UniRep at equal
   head; 64 against 256 against 1900 units; the last cell against every cell; a second, reversed pass; a learned
   projection; attention; multi-task heads and their weights; two seeds.
3. ``select``: the greedy ensemble on netsurfp2 validation Q3, from the multi-task stacks (they carry the ss8,
   disorder and conservation heads) and every stack that reads the same states; the disorder threshold on
   validation. This is the ``unirep`` candidate.
4. ``distil``: `default`'s two recipes (a single-task and a multi-task c64 stack, one-hot only) with the
   ``unirep`` candidate as teacher, at two teacher weights, on every training chain of the three sets, labelled
   or not (the conservation chains have no structure labels and learn the teacher's probabilities alone).
5. ``speed``: residues per second of the candidate on the device, states included.

Choices use validation splits only; no test set is read. The test sets are scored once, afterwards, on the CPU
(benchmarks/multitask.py tests).

``--limit N`` keeps N chains of each set and a few seconds per run: a smoke run of this script on the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

import sspred
from sspred.cascade import ensemble
from sspred.config import ConvConfig, TrainConfig
from sspred.io import datasets
from sspred.model import Model, Session, load_model
from sspred.splits import without_leaks
from sspred.unirep.states import Spec, cached_features, extractor

sys.path.insert(0, str(Path(__file__).resolve().parent))
import multitask as mt  # noqa: E402  (the validation scores and the pool of the second accuracy push)

#: The head every variant shares (the issue's probe: a 6-layer dilated conv stack of 128 channels).
HEAD = {"channels": 128, "first_kernel": 5, "kernel": 3, "dilations": [1, 2, 4, 8, 16], "dropout": 0.25}
#: Conservation training chains in the multi-task pool (a seeded sample, as in the second push, at half its size:
#: the pool's states are cached whole, 7.6 kB a residue in float16 with both passes).
CONSERVATION_CHAINS = 2000
MT = {"heads": ["ss8", "disorder", "conservation"], "head_weights": mt.HEAD_WEIGHTS}
#: name -> ConvConfig fields beyond HEAD, and whether it trains on the multi-task pool; seed 0 unless named.
VARIANTS: dict[str, dict] = {
    "onehot": {},
    "u64": {"unirep": 64},
    "u64-all": {"unirep": 64, "unirep_cells": "all"},
    "u256": {"unirep": 256},
    "u256-all": {"unirep": 256, "unirep_cells": "all"},
    "u1900": {"unirep": 1900},
    "u1900-bi": {"unirep": 1900, "unirep_reverse": True},
    "u1900-bi-p256": {"unirep": 1900, "unirep_reverse": True, "unirep_project": 256},
    "u1900-bi-att": {"unirep": 1900, "unirep_reverse": True, "attention": 1},
    "mt-s0": {"unirep": 1900, "unirep_reverse": True, **MT, "pool": True},
    "mt-s1": {"unirep": 1900, "unirep_reverse": True, **MT, "pool": True, "seed": 1},
    "mt-w1": {"unirep": 1900, "unirep_reverse": True, "heads": MT["heads"],
              "head_weights": {h: 1.0 for h in MT["heads"]}, "pool": True},
    "mt-att": {"unirep": 1900, "unirep_reverse": True, **MT, "attention": 1, "pool": True},
}
#: The states the variants read, computed in phase 1 (narrower ones are column views of these).
STATE_SPECS = [Spec(1900, "last", True), Spec(256, "all", False), Spec(64, "all", False)]
#: `default`'s recipes (BENCHMARKS.md, second push): 64 channels, kernel 15 then 5, dilations 1-16.
STUDENT = {"channels": 64, "first_kernel": 15, "kernel": 5, "dilations": [1, 2, 4, 8, 16], "dropout": 0.2}
STUDENTS = {"st-single-w5": (False, 0.5), "st-single-w8": (False, 0.8), "st-mt-w5": (True, 0.5),
            "st-mt-w8": (True, 0.8)}


def log(out: Path, message: str) -> None:
    line = f"{time.strftime('%H:%M:%S')} {message}"
    print(line, flush=True)
    with open(out / "log.txt", "a") as fh:
        fh.write(line + "\n")


def record(out: Path, key: str, value) -> None:
    path = out / "results.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = value
    path.write_text(json.dumps(data, indent=1))


def sets(limit: int, all_conservation: bool = False) -> dict[str, list]:
    """Every chain list the sweep reads, after each set's leak list (validation splits too)."""
    d = datasets.data_dir(None)
    pool = mt.pool(d, 0 if all_conservation else CONSERVATION_CHAINS, 0)
    out = {f"{k}-train": v for k, v in pool.items()}
    out["pool-train"] = out["netsurfp2-train"] + out["dssp8-train"] + out["conservation-train"]
    out["netsurfp2-valid"] = without_leaks(datasets.load("netsurfp2", "valid", d), train_set="netsurfp2")
    out["dssp8-valid"] = without_leaks(datasets.load("dssp8", "valid", d), train_set="dssp8")
    out["conservation-valid"] = datasets.load("conservation", "valid", d)
    out = {k: v[:limit] if limit else v for k, v in out.items()}
    if limit:
        out["pool-train"] = out["netsurfp2-train"] + out["dssp8-train"] + out["conservation-train"]
    return out


def states(args) -> None:
    out = Path(args.out)
    for spec in STATE_SPECS:
        ext = extractor(spec, engine="torch", device=args.device)
        for name, chains in sets(args.limit).items():
            if name in ("dssp8-train", "conservation-train"):
                continue  # read only as part of the pool
            if spec != STATE_SPECS[0] and not name.startswith("netsurfp2"):
                continue  # the small models are compared on netsurfp2 alone
            start = time.perf_counter()
            cached_features(ext, [c.codes for c in chains], name)
            n = sum(c.codes.size for c in chains)
            log(out, f"states {spec.key} {name}: {len(chains)} chains, {n} residues, "
                     f"{time.perf_counter() - start:.1f} s")


def train_config(name: str, fields: dict, args) -> TrainConfig:
    fields = dict(fields)
    pool, seed = fields.pop("pool", False), fields.pop("seed", 0)
    model = ConvConfig(**{**HEAD, **fields})
    epochs = 2 if args.limit else (10 if pool else 12)
    return TrainConfig(model=model, optimizer="adam", lr=1e-3, schedule="cosine", lr_min=1e-5, batch_size=32,
                       epochs=epochs, patience=epochs, seed=seed, engine="torch", device=args.device, name=name,
                       max_seconds=args.budget)


def work(args) -> Path:
    """Where runs keep their model files and logs: --work, else OUT/models (OUT itself holds what comes back)."""
    path = Path(args.work) if args.work else Path(args.out) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def train_one(args) -> None:
    """One variant (``--name``): train, score on validation, save WORK/NAME.npz and NAME.json."""
    out = work(args)
    name = args.name
    fields = VARIANTS[name]
    cfg = train_config(name, fields, args)
    all_sets = sets(args.limit)
    chains = all_sets["pool-train" if fields.get("pool") else "netsurfp2-train"]
    start = time.perf_counter()
    model = sspred.train(cfg, chains, all_sets["netsurfp2-valid"])
    seconds = time.perf_counter() - start
    session = with_device(model, args.device)
    mt.set_disorder_threshold(session, all_sets["netsurfp2-valid"])
    model.save(out / f"{name}.npz")
    hist = model.header["train"]["history"]
    row = {"name": name, "fields": fields, "train_seconds": seconds, "epochs_run": len(hist["epochs"]),
           "best_epoch": hist["best_epoch"], "parameters": int(sum(v.size for v in model.params.values())),
           "validation": mt.validation(session, None)}
    (out / f"{name}.json").write_text(json.dumps(row, indent=1))


def run_parallel(args, names: list[str], sub: str, budget: float, timeout: float) -> None:
    """``sub --name N`` for every name at once, as child processes, each with ``budget`` seconds of training;
    waits at most ``timeout`` seconds."""
    out, models = Path(args.out), work(args)
    procs = {}
    for name in names:
        cmd = [sys.executable, __file__, sub, "--out", args.out, "--work", str(models), "--device", args.device,
               "--budget", str(budget), "--limit", str(args.limit), "--name", name]
        procs[name] = subprocess.Popen(cmd, stdout=open(models / f"{name}.log", "w"), stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    for name, p in procs.items():
        try:
            p.wait(timeout=max(1.0, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            log(out, f"{name}: killed at the deadline")
        log(out, f"{name}: exit {p.returncode}")


def rows(models: Path, names) -> dict[str, dict]:
    found = {}
    for name in names:
        path = models / f"{name}.json"
        if path.exists():
            found[name] = json.loads(path.read_text())
    return found


def valid_probs(model: Model, valid, device: str) -> np.ndarray:
    return np.concatenate(with_device(model, device).predict_many([c.codes for c in valid]))


def select(args, out: Path, done: dict[str, dict]) -> Path | None:
    """The greedy ensemble (at most 4) on netsurfp2 validation Q3, starting from the best multi-task stack, among
    the stacks that read its states; saved as OUT/models/unirep.npz with its disorder threshold."""
    multi = [n for n in done if n.startswith("mt-")]
    if not multi:
        return None
    first = max(multi, key=lambda n: done[n]["validation"]["q3_netsurfp2_valid"])
    spec = {k: done[first]["fields"].get(k) for k in ("unirep", "unirep_cells", "unirep_reverse")}
    pool = [n for n in done if {k: done[n]["fields"].get(k) for k in spec} == spec]
    valid = sets(args.limit)["netsurfp2-valid"]
    y = np.concatenate([c.y3 for c in valid])
    scored = y >= 0
    models = {n: load_model(work(args) / f"{n}.npz") for n in pool}
    probs = {n: valid_probs(m, valid, args.device)[scored] for n, m in models.items()}

    def q3(members):
        return float((np.mean([probs[m] for m in members], axis=0).argmax(axis=1) == y[scored]).mean() * 100)

    chosen, steps = [first], [(first, q3([first]))]
    while len(chosen) < min(4, len(pool)):
        best = max((n for n in pool if n not in chosen), key=lambda n: q3(chosen + [n]))
        if q3(chosen + [best]) <= q3(chosen):
            break
        chosen.append(best)
        steps.append((best, q3(chosen)))
    record(out, "greedy", steps)
    header, params = ensemble([models[n] for n in chosen], "unirep")
    model = Model(header, params)
    mt.set_disorder_threshold(model, valid)
    path = work(args) / "unirep.npz"
    model.save(path)
    record(out, "unirep_members", chosen)
    return path


def distil_one(args) -> None:
    """One student (``--name``): `default`'s recipe, one-hot only, taught by WORK/unirep.npz."""
    out = work(args)
    multi, weight = STUDENTS[args.name]
    all_sets = sets(args.limit, all_conservation=True)
    chains = all_sets["netsurfp2-train"]
    fields = dict(STUDENT)
    if multi:
        chains = chains + all_sets["dssp8-train"] + all_sets["conservation-train"]
        fields.update(MT)
    epochs = 2 if args.limit else 14
    cfg = TrainConfig(model=ConvConfig(**fields), optimizer="adam", lr=0.002, schedule="cosine", lr_min=2e-5,
                      batch_size=16, epochs=epochs, patience=epochs, seed=0, engine="torch", device=args.device,
                      teacher=str(out / "unirep.npz"), teacher_weight=weight, name=args.name,
                      max_seconds=args.budget)
    start = time.perf_counter()
    model = sspred.train(cfg, chains, all_sets["netsurfp2-valid"])
    seconds = time.perf_counter() - start
    mt.set_disorder_threshold(model, all_sets["netsurfp2-valid"])
    model.save(out / f"{args.name}.npz")
    hist = model.header["train"]["history"]
    row = {"name": args.name, "multi_task": multi, "teacher_weight": weight, "train_seconds": seconds,
           "chains": len(chains), "epochs_run": len(hist["epochs"]), "best_epoch": hist["best_epoch"],
           "validation": mt.validation(model, None)}
    (out / f"{args.name}.json").write_text(json.dumps(row, indent=1))


def speed(args, out: Path, path: Path) -> None:
    """Residues per second of the candidate on the device, states and heads, over netsurfp2's training chains."""
    model = load_model(path)
    model.device = args.device
    chains = [c.codes for c in sets(args.limit)["netsurfp2-train"]]
    n = sum(c.size for c in chains)
    model.predict_heads(chains[:64])  # warm-up: kernels, weights on the device
    start = time.perf_counter()
    for k in range(0, len(chains), 1000):
        model.predict_heads(chains[k:k + 1000])
    seconds = time.perf_counter() - start
    record(out, "speed", {"device": args.device, "residues": n, "seconds": seconds, "residues_per_s": n / seconds})


def true_checksums(out: Path, models: Path, names: list[str]) -> None:
    """Name the published weights' sha256 in the returned model files. The states here came from a copy of the
    1900 weights rounded to float16 (the transfer to the lent machine is size-capped); the header says so."""
    for name in names:
        model = load_model(models / f"{name}.npz")
        descs = model.header["members"] if "members" in model.header else [model.header]
        for desc in descs:
            f = desc.get("features")
            if f and os.environ.get(f"UNIREP_SHA_{f['size']}"):
                f["sha256"] = os.environ[f"UNIREP_SHA_{f['size']}"]
                f["states_in_training"] = os.environ.get("UNIREP_NOTE", "")
        model.save(out / f"{name}.npz")


def sweep(args) -> None:
    out, models = Path(args.out), work(args)
    t0 = time.perf_counter()
    free = shutil.disk_usage(Path(os.environ["SSPRED_CACHE"]).parent)
    log(out, f"sweep on {args.device}; budget {args.budget} s a run; cache {os.environ['SSPRED_CACHE']} "
             f"{free.free / 2**30:.0f} GiB free")
    states(args)
    record(out, "states_seconds", time.perf_counter() - t0)
    names = args.variants.split(",") if args.variants else list(VARIANTS)
    run_parallel(args, names, "train", args.budget, args.budget + args.grace)
    done = rows(models, names)
    record(out, "variants", done)
    log(out, "variants: " + ", ".join(f"{n} {r['validation']['q3_netsurfp2_valid']:.2f}" for n, r in done.items()))
    path = select(args, out, done)
    if path is None:
        log(out, "no multi-task stack finished: nothing to select")
        return
    members = json.loads((out / "results.json").read_text())["unirep_members"]
    true_checksums(out, models, members)  # OUT/NAME.npz, one file each (the returned files are size-capped)
    record(out, "unirep_validation", mt.validation(with_device(load_model(path), args.device), None))
    log(out, f"selected at {time.perf_counter() - t0:.0f} s")
    run_parallel(args, list(STUDENTS), "distil", args.student_budget, args.student_budget + args.grace)
    record(out, "students", rows(models, STUDENTS))
    with tarfile.open(out / "students.tar", "w") as tar:
        for p in sorted(models.glob("st-*.npz")) + sorted(models.glob("*.log")):
            tar.add(p, arcname=p.name)
    log(out, f"students at {time.perf_counter() - t0:.0f} s")
    speed(args, out, path)
    log(out, f"done at {time.perf_counter() - t0:.0f} s")


def with_device(model: Model, device: str) -> Session:
    """``model`` predicting on ``device`` (torch), its UniRep states read from and written to the sweep's cache."""
    return Session(model, device, os.environ["SSPRED_CACHE"])


def shrink_for_smoke() -> None:
    """``--limit``: the 64-unit model in place of the 1900 one, so a smoke run on 2 CPU cores takes minutes."""
    global STATE_SPECS
    for fields in VARIANTS.values():
        if fields.get("unirep") == 1900:
            fields["unirep"] = 64
        if fields.get("unirep_project"):
            fields["unirep_project"] = 16
    STATE_SPECS = [Spec(64, "last", True), Spec(256, "all", False), Spec(64, "all", False)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("phase", choices=("sweep", "states", "train", "distil"))
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="cuda")
    p.add_argument("--budget", type=float, default=170.0, help="seconds of training per variant")
    p.add_argument("--student-budget", type=float, default=130.0)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--name", default=None)
    p.add_argument("--work", default="", help="folder for the runs' model files and logs (default OUT/models)")
    p.add_argument("--variants", default="", help="comma-separated names of VARIANTS (default: all)")
    p.add_argument("--grace", type=float, default=120.0,
                   help="seconds a run may take beyond its training budget (start-up, validation, saving)")
    args = p.parse_args()
    os.environ.setdefault("SSPRED_CACHE", str(Path(args.out) / "cache"))
    if args.limit:
        shrink_for_smoke()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    {"sweep": sweep, "states": states, "train": train_one, "distil": distil_one}[args.phase](args)


if __name__ == "__main__":
    main()
