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
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

AMINO = "ACDEFGHIKLMNPQRSTVWY"
SRC = Path(__file__).resolve().parents[1] / "src"


def long_chain(path: Path, length: int, rng: random.Random) -> None:
    seq = "".join(rng.choices(AMINO, k=length))
    path.write_text(">long one chain of %d residues\n%s\n" % (length, "\n".join(seq[i:i + 60] for i in range(0, length, 60))))


def tiny_records(path: Path, n: int, rng: random.Random, length: int = 12) -> None:
    with open(path, "w") as fh:
        for i in range(n):
            fh.write(f">r{i}\n{''.join(rng.choices(AMINO, k=length))}\n")


def run(args: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB, exit code) of ``python -m sspred ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with tempfile.NamedTemporaryFile("r") as report:
        proc = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M %e", sys.executable, "-m", "sspred", *args],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with tempfile.NamedTemporaryFile("r") as report:
        proc = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M %e", sys.executable, "-c", SERVICE_CHILD,
                               model, str(path)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        kib, wall = report.read().split()[-2:]
    if proc.returncode:
        print(proc.stderr.strip().splitlines()[-1], file=sys.stderr)
    return float(wall), int(kib) / 1024, proc.returncode


def id_table_memory(n: int) -> tuple[float, float]:
    """MiB held by a set of n ids and by SeenIds after n ids (tracemalloc)."""
    sys.path.insert(0, str(SRC))
    from sspred.io.seen import SeenIds

    out = []
    for make in (set, SeenIds):
        tracemalloc.start()
        table = make()
        for i in range(n):
            table.add(f"r{i}")  # a fresh string per record, as the parser makes them; a set keeps each one alive
        out.append(tracemalloc.get_traced_memory()[0] / 2**20)
        tracemalloc.stop()
        del table
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", default="100000", help="comma-separated chain lengths of the long case")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--models", default="fast,default")
    ap.add_argument("--cases", default="long,many,ids", help="of long, many, ids, service (the largest request "
                    "the service takes for each model, in one child per request)")
    a = ap.parse_args()
    rng = random.Random(0)
    cases = a.cases.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if "ids" in cases:
            s, t = id_table_memory(a.records)
            print(f"duplicate-id tracking, {a.records} ids: Python set {s:.1f} MiB, SeenIds {t:.1f} MiB", flush=True)
        r = run(["--help"])
        print(f"baseline `sspred --help`: {r[1]:.0f} MiB peak RSS", flush=True)
        inputs = {}
        if "long" in cases:
            for length in map(int, a.lengths.split(",")):
                inputs[f"long{length}"] = (tmp / f"long{length}.fa", f"1 chain of {length:,} residues")
                long_chain(inputs[f"long{length}"][0], length, rng)
        if "many" in cases:
            inputs["many"] = (tmp / "many.fa", f"{a.records:,} records of 12 residues")
            tiny_records(inputs["many"][0], a.records, rng)
        if "service" in cases:  # the largest request each model's service takes, in its two shapes
            sys.path.insert(0, str(SRC))
            from sspred.predict.api import load
            from sspred.serve.service import limits_for

            for model in a.models.split(","):
                lim = limits_for(load(model))
                one, many = tmp / f"one-{model}.fa", tmp / f"many-{model}.fa"
                long_chain(one, lim.max_residues, rng)
                with open(many, "w") as fh:
                    per = lim.max_residues // lim.max_sequences
                    for i in range(lim.max_sequences):
                        fh.write(f">s{i}\n{''.join(rng.choices(AMINO, k=per))}\n")
                for path, what in ((one, f"1 chain of {lim.max_residues:,}"),
                                   (many, f"{lim.max_sequences:,} chains of {per:,}")):
                    wall, rss, code = service_request(model, path)
                    print(f"| service request: {what} residues | {model} | {rss:,.0f} MiB | {wall:,.1f} s | {code} |",
                          flush=True)
        for case, (path, what) in inputs.items():
            for model in a.models.split(","):
                wall, rss, code = run(["predict", str(path), "-m", model, "-f", "fasta", "-o", str(tmp / "out.fa")])
                print(f"| {what} | {model} | {rss:,.0f} MiB | {wall:,.1f} s | {code} |", flush=True)


if __name__ == "__main__":
    main()
