"""sspred split: cluster chains with MMseqs2 and write cluster-disjoint train, valid and test sets."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer

from sspred import splits
from sspred.cli.root import app
from sspred.cli.common import DATA_DIR, output, warn
from sspred.errors import InputError
from sspred.io import datasets
from sspred.io.textfile import check_output_folder


def load_all(data: str, data_dir: str | None) -> list[datasets.Chain]:
    """Every chain of a named set (all its splits, in order), 'NAME:SPLIT' for one split, or a file."""
    name, _, split = data.partition(":")
    if name in datasets.DATASETS and split:
        return datasets.load(name, split, data_dir)
    if name in datasets.DATASETS:
        return [c for chains in datasets.DATASETS[name](datasets.data_dir(data_dir)).values() for c in chains]
    return datasets.load(data, "train", data_dir)


def check_fraction(value: float, flag: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise typer.BadParameter("must be between 0 and 1", param_hint=flag)
    return value


@app.command()
def split(
    data: str = typer.Option(..., "--data", help=f"Data set ({', '.join(datasets.DATASETS)}; all its splits), "
                                                 "NAME:SPLIT, or a labelled file."),
    out_dir: Path = typer.Option(..., "--out-dir", help="Folder for train.txt, valid.txt, test.txt, clusters.tsv."),
    identity: float = typer.Option(splits.IDENTITY, "--identity", help="Chains this similar share a cluster."),
    coverage: float = typer.Option(splits.COVERAGE, "--coverage", help="...over this fraction of the shorter chain."),
    valid_fraction: float = typer.Option(0.1, "--valid-fraction", help="Share of chains for validation."),
    test_fraction: float = typer.Option(0.1, "--test-fraction", help="Share of chains for test."),
    seed: int = typer.Option(0, "--seed", help="Seed of the cluster order."),
    sensitivity: float = typer.Option(splits.SENSITIVITY, "--sensitivity", help="MMseqs2 -s."),
    evalue: float = typer.Option(splits.EVALUE, "--evalue", help="MMseqs2 -e: weaker alignments are ignored."),
    threads: int = typer.Option(0, "--threads", help="MMseqs2 threads (0: all cores)."),
    data_dir: Optional[str] = DATA_DIR,
) -> None:
    """Cluster at --identity over --coverage (single linkage) and split whole clusters, in three-line files."""
    check_fraction(identity, "--identity")
    check_fraction(coverage, "--coverage")
    check_fraction(valid_fraction, "--valid-fraction")
    check_fraction(test_fraction, "--test-fraction")
    if valid_fraction + test_fraction > 1.0:
        raise typer.BadParameter("valid and test fractions add up to more than 1", param_hint="--test-fraction")
    check_output_folder(out_dir)
    chains = load_all(data, data_dir)
    if not chains:
        raise InputError("no chains to split", path=data)
    short = [c.id for c in chains if len(c.sequence) < splits.MIN_SEARCHABLE]
    if short:
        warn(f"{len(short)} chain(s) shorter than {splits.MIN_SEARCHABLE} residues, which MMseqs2 cannot match "
             f"even when identical: {', '.join(short[:5])}{' ...' if len(short) > 5 else ''}")
    settings = splits.SearchSettings(sensitivity=sensitivity, evalue=evalue, threads=threads)
    labels = splits.cluster([(c.id, c.sequence) for c in chains], identity, coverage, settings)
    fractions = (1.0 - valid_fraction - test_fraction, valid_fraction, test_fraction)
    assign = splits.assign_splits(labels, fractions, np.random.default_rng(seed))
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in splits.SPLITS:
        with output(out_dir / f"{name}.txt") as handle:
            datasets.write_three_line([c for c, a in zip(chains, assign) if a == name], handle)
    with output(out_dir / "clusters.tsv") as handle:
        handle.write("id\tcluster\tsplit\n")
        for c, label, a in zip(chains, labels, assign):
            handle.write(f"{c.id}\t{chains[label].id}\t{a}\n")
    sizes = np.bincount(labels)
    typer.echo(f"{len(chains)} chains in {len(np.unique(labels))} clusters at {identity:.0%} identity over "
               f"{coverage:.0%} of the shorter chain (largest {sizes.max()})", err=True)
    for name in splits.SPLITS:
        picked = [c for c, a in zip(chains, assign) if a == name]
        typer.echo(f"{name}\t{len(picked)} chains\t{datasets.count_scored(picked)} scored residues\t"
                   f"{out_dir / (name + '.txt')}")
