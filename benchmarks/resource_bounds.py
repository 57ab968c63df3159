"""Peak memory and wall time of `sspred predict` on long chains (100,000 residues; titin's 35,000 too with
--lengths) and on a million tiny records, for any of the built-in models.

Generates its inputs (seeded) in a temporary directory, runs the CLI in a
subprocess per case under /usr/bin/time, which reports that child's peak
resident set size (os.wait4 from this script would also count this script's
own memory, which a forked child's high-water mark inherits). Also compares the
memory of the duplicate-id table with a plain set of the ids.

    nice -n 10 python benchmarks/resource_bounds.py                 # all cases
    nice -n 10 python benchmarks/resource_bounds.py --records 100000 --models fast
    nice -n 10 python benchmarks/resource_bounds.py --cases long,many --lengths 35000,100000 --records 100000 \\
        --models fast,default,accurate,q8,unirep        # every built-in model; unirep's long chains take minutes
    nice -n 10 python benchmarks/resource_bounds.py --cases service --models unirep   # the service's largest request
    nice -n 10 python benchmarks/run.py resource_bounds --out results.json    # the default cases, beside the machine

Prints the figures as JSON; ``measure`` returns them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sspred
from sspred.alphabet import AMINO_ACIDS as AMINO
from sspred.io.seen import SeenIds
from sspred.predict.api import load

#: The source folder of the sspred this process imported: the children run the same code.
SRC = Path(sspred.__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}


def long_chain(path: Path, length: int, rng: random.Random) -> None:
    seq = "".join(rng.choices(AMINO, k=length))
    path.write_text(">long one chain of %d residues\n%s\n" % (length, "\n".join(seq[i:i + 60] for i in range(0, length, 60))))


def tiny_records(path: Path, n: int, rng: random.Random, length: int = 12) -> None:
    with open(path, "w") as fh:
        for i in range(n):
            fh.write(f">r{i}\n{''.join(rng.choices(AMINO, k=length))}\n")


def run(args: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB, exit code) of ``python -m sspred ARGS``."""
    with tempfile.NamedTemporaryFile("r") as report:
        proc = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M %e", sys.executable, "-m", "sspred", *args],
                              env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kib, wall = report.read().split()[-2:]  # %M is KiB
    return float(wall), int(kib) / 1024, proc.returncode


#: A child that answers one request as the service does (parse with its limits, predict, render JSON): argv
#: model, FASTA file.
SERVICE_CHILD = """
import sys
from sspred.predict.api import load
from sspred.serve import service
limits = service.limits_for(load(sys.argv[1]))
records, _ = service.records_from_text(open(sys.argv[2]).read(), limits)
predictor = load(sys.argv[1])
service.render("json", predictor, service.predict(predictor, records))
"""


def service_request(model: str, path: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB, exit code) of one service request for ``model``, in a child."""
    with tempfile.NamedTemporaryFile("r") as report:
        proc = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M %e", sys.executable, "-c", SERVICE_CHILD,
                               model, str(path)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        kib, wall = report.read().split()[-2:]
    if proc.returncode:
        raise RuntimeError(f"the service request of {model} failed: {proc.stderr.strip().splitlines()[-1]}")
    return float(wall), int(kib) / 1024, proc.returncode


def id_table_memory(n: int) -> list[float]:
    """MiB held by a set of n ids and by SeenIds after n ids (tracemalloc)."""
    out = []
    for make in (set, SeenIds):
        tracemalloc.start()
        table: set[str] | SeenIds = make()
        for i in range(n):
            table.add(f"r{i}")  # a fresh string per record, as the parser makes them; a set keeps each one alive
        out.append(tracemalloc.get_traced_memory()[0] / 2**20)
        tracemalloc.stop()
        del table
    return out


def measure(quick: bool = False, lengths: Sequence[int] = (100_000,), records: int = 1_000_000,
            models: Sequence[str] = ("fast", "default"), cases: Sequence[str] = ("long", "many", "ids"),
            seed: int = 0) -> dict[str, Any]:
    """Peak memory and wall time of each case; ``quick``: a 3,000-residue chain and 2,000 records, -m fast."""
    if quick:
        lengths, records, models = (3000,), 2000, ("fast",)
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if "ids" in cases:
            s, t = id_table_memory(records)
            out["id_table_mib"] = {"ids": records, "set": round(s, 2), "SeenIds": round(t, 2)}
        out["help_peak_rss_mib"] = round(run(["--help"])[1])
        inputs = {}
        if "long" in cases:
            for length in lengths:
                inputs[f"long{length}"] = (tmp / f"long{length}.fa", f"1 chain of {length:,} residues")
                long_chain(inputs[f"long{length}"][0], length, rng)
        if "many" in cases:
            inputs["many"] = (tmp / "many.fa", f"{records:,} records of 12 residues")
            tiny_records(inputs["many"][0], records, rng)
        rows = []
        if "service" in cases:  # the largest request each model's service takes, in its two shapes
            from sspred.serve.service import limits_for

            for model in models:
                lim = limits_for(load(model))
                one, many = tmp / f"one-{model}.fa", tmp / f"many-{model}.fa"
                long_chain(one, lim.max_residues, rng)
                per = lim.max_residues // lim.max_sequences
                with open(many, "w") as fh:
                    for i in range(lim.max_sequences):
                        fh.write(f">s{i}\n{''.join(rng.choices(AMINO, k=per))}\n")
                for path, what in ((one, f"1 chain of {lim.max_residues:,}"),
                                   (many, f"{lim.max_sequences:,} chains of {per:,}")):
                    wall, rss, code = service_request(model, path)
                    rows.append({"case": f"service request: {what} residues", "model": model,
                                 "peak_rss_mib": round(rss), "seconds": wall, "exit_code": code})
        for case, (path, what) in inputs.items():
            for model in models:
                wall, rss, code = run(["predict", str(path), "-m", model, "-f", "fasta", "-o", str(tmp / "out.fa")])
                rows.append({"case": what, "model": model, "peak_rss_mib": round(rss), "seconds": wall,
                             "exit_code": code})
        out["cases"] = rows
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a 3,000-residue chain and 2,000 records, -m fast")
    ap.add_argument("--lengths", default="100000", help="comma-separated chain lengths of the long case")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--models", default="fast,default")
    ap.add_argument("--cases", default="long,many,ids", help="of long, many, ids, service (the largest request "
                    "the service takes for each model, in one child per request)")
    a = ap.parse_args()
    result = measure(a.quick, [int(n) for n in a.lengths.split(",")], a.records, a.models.split(","),
                     a.cases.split(","))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
