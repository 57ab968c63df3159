"""sspred label: DSSP labels from PDB or mmCIF structures, written as a training set."""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from sspred import dssp
from sspred.alphabet import STATE_SETS
from sspred.cli.root import EXIT_BAD_INPUT, app
from sspred.cli.common import output, warn
from sspred.errors import InputError
from sspred.extras import require
from sspred.io import datasets
from sspred.io.textfile import check_output


@app.command()
def label(
    structures: List[Path] = typer.Argument(..., help="PDB or mmCIF files."),
    out: Path = typer.Option(..., "--out", "-o", help="Three-line file to write (>ID, sequence, labels); '-' is stdout."),
    states: str = typer.Option("8", "--n-states", "--states", help="8: DSSP's states (read back as 8- and 3-state); 3: H/E/C only (--states: the old name, deprecated)."),
) -> None:
    """Run mkdssp on each structure and write per-chain labels that 'sspred train --data FILE' reads.

    Needs pip install "sspred[structure]" (biotite) and the mkdssp program (e.g. apt install dssp).

    Unobserved residues and chain breaks are written 'X' and are never trained on.
    A bad file or chain is reported at the end and the rest are still written (exit 2 if any failed).
    """
    if states not in STATE_SETS:
        raise typer.BadParameter("3 or 8", param_hint="--n-states")
    check_output(out, inputs=structures)
    require("biotite.structure", "structure", "sspred label")
    dssp.mkdssp_binary()  # a missing program stops the batch before any file is tried
    labelled: list[datasets.Chain] = []
    failures: list[str] = []
    for path in structures:
        try:
            result = dssp.label_structure(path)
        except InputError as exc:
            failures.append(str(exc))
            continue
        failures += [f"{path}: chain {cid}: {why}" for cid, why in result.failed]
        for c in result.chains:
            chain = datasets.make_chain(c.id, c.sequence, c.ss8, eight=True, path=str(path),
                                        unobserved=dssp.UNOBSERVED)
            if states == "3":
                chain.y8 = None  # the writer then writes H/E/C with the states=3 tag
            labelled.append(chain)
    if labelled:
        with output(out) as handle:
            datasets.write_three_line(labelled, handle)
    residues = datasets.count_scored(labelled)
    typer.echo(f"labelled {len(labelled)} chains ({residues} residues) from "
               f"{len(structures)} files" + (f" into {out}" if str(out) != "-" else ""), err=True)
    for message in failures:
        warn(message)
    if failures:
        typer.echo(f"sspred: error: {len(failures)} file(s) or chain(s) failed; see the warnings above", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
