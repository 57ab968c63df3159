"""sspred audit: how close is each test chain to the training set? Flags and removes leaks."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sspred import splits
from sspred.cli.root import app
from sspred.cli.common import DATA_DIR, output, warn
from sspred.cli.split import check_fraction
from sspred.io import datasets
from sspred.io.textfile import check_output


def load_side(data: str, default_split: str, data_dir: str | None) -> list[datasets.Chain]:
    """A named set's split ('cb513', 'netsurfp2:valid') or a labelled file.

    A named set without that split (cb513 has only 'test') gives its only split.
    """
    name, _, split = data.partition(":")
    if name not in datasets.DATASETS:
        return datasets.load(data, default_split, data_dir)
    if not split:
        available = datasets.DATASETS[name](datasets.data_dir(data_dir))
        if default_split not in available and len(available) == 1:
            return next(iter(available.values()))
    return datasets.load(name, split or default_split, data_dir)


@app.command()
def audit(
    train: str = typer.Option(..., "--train", help="Training set: NAME (its train split), NAME:SPLIT or a file."),
    test: str = typer.Option(..., "--test", help="Test set: NAME (its test split), NAME:SPLIT or a file."),
    identity: float = typer.Option(splits.IDENTITY, "--identity", help="Leak at this identity or more..."),
    coverage: float = typer.Option(splits.COVERAGE, "--coverage", help="...over this fraction of the shorter chain."),
    sensitivity: float = typer.Option(splits.SENSITIVITY, "--sensitivity", help="MMseqs2 -s."),
    evalue: float = typer.Option(splits.EVALUE, "--evalue", help="MMseqs2 -e: weaker alignments are ignored."),
    threads: int = typer.Option(0, "--threads", help="MMseqs2 threads (0: all cores)."),
    report: Optional[Path] = typer.Option(None, "--report", "-o", help="TSV report file (default stdout)."),
    write_filtered_test: Optional[Path] = typer.Option(None, "--write-filtered-test",
                                                       help="Write the test chains that do not leak (three-line)."),
    write_filtered_train: Optional[Path] = typer.Option(None, "--write-filtered-train",
                                                        help="Write the training chains with no leak to any test chain."),
    fail_on_leak: bool = typer.Option(False, "--fail-on-leak", help="Exit 1 when any test chain leaks."),
    data_dir: Optional[str] = DATA_DIR,
) -> None:
    """For every test chain: its closest training chain, identity, coverage and E-value; leaks flagged."""
    check_fraction(identity, "--identity")
    check_fraction(coverage, "--coverage")
    for path in (report, write_filtered_test, write_filtered_train):
        if path is not None:
            check_output(path, inputs=[train, test.split(":")[0]])
    train_chains = load_side(train, "train", data_dir)
    test_chains = load_side(test, "test", data_dir)
    short = [c.id for c in test_chains if len(c.sequence) < splits.MIN_SEARCHABLE]
    if short:
        warn(f"{len(short)} chain(s) shorter than {splits.MIN_SEARCHABLE} residues, which MMseqs2 cannot match "
             f"even when identical: {', '.join(short[:5])}{' ...' if len(short) > 5 else ''}")
    settings = splits.SearchSettings(sensitivity=sensitivity, evalue=evalue, threads=threads)
    result = splits.audit([(c.id, c.sequence) for c in train_chains], [(c.id, c.sequence) for c in test_chains],
                          identity, coverage, settings)
    with output(report) as handle:
        handle.write("test_id\tlength\tclosest_train_id\tidentity\tcoverage\tevalue\tleak\n")
        for r in result.rows:
            b = r.best
            cols = [b.target, f"{b.identity:.3f}", f"{b.coverage:.3f}", f"{b.evalue:.2g}"] if b else ["-", "0", "0", "-"]
            handle.write("\t".join([r.id, str(r.length), *cols, "yes" if r.leak else "no"]) + "\n")
    if write_filtered_test is not None:
        with output(write_filtered_test) as handle:
            datasets.write_three_line([c for c, r in zip(test_chains, result.rows) if not r.leak], handle)
    if write_filtered_train is not None:
        with output(write_filtered_train) as handle:
            datasets.write_three_line([c for c in train_chains if c.id not in result.leaking_train], handle)
    n_leak = sum(r.leak for r in result.rows)
    typer.echo(f"{n_leak} of {len(result.rows)} test chains leak: a training chain at >= {identity:.0%} identity "
               f"over >= {coverage:.0%} of the shorter chain ({len(result.leaking_train)} of {len(train_chains)} "
               "training chains involved)", err=True)
    if fail_on_leak and n_leak:
        raise typer.Exit(1)
