"""Secondary-structure labels from structures: run real mkdssp, read its classic output per chain.

mkdssp (Kabsch & Sander 1983; DSSP 4.x from the Debian package ``dssp``)
reads mmCIF well. PDB-format files go in as they are; when mkdssp rejects one
(a missing CRYST1, a REMARK its PDB-to-mmCIF converter trips on), it gets a
second try with only the records DSSP needs: a HEADER, a CRYST1 (a unit cell
that changes nothing for DSSP, which computes no symmetry contacts) and the
coordinates.

Classic DSSP output has one line per residue after the ``  #  RESIDUE``
header. The columns read here (1-based, as in the DSSP documentation):

    1-5    DSSP's own sequential number
    6-10   author residue number
    11     insertion code
    12     chain identifier
    14     one-letter amino acid; '!' marks a break; lower case a-z is a cystine (C)
    17     secondary structure: H G I E B T S P or blank (coil)

A break ('!' line) is written as unobserved residues 'X': as many as the
author numbering says are missing, and one where it cannot tell (the
numbers run on, or go back), so windows never join the two sides as if they
were neighbours. Residues DSSP skips for an incomplete backbone show up the
same way, as a numbering gap at a break.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sspred.alphabet import DSSP8_ALIASES, STATES8
from sspred.errors import InputError, ToolError
from sspred.io.textfile import atomic_output

#: The first line of the per-residue table in a classic DSSP file.
TABLE_HEADER = "  #  RESIDUE"
#: Letter for a residue that has no label: unobserved, or the stand-in for a break.
UNOBSERVED = "X"
#: Classic column positions (0-based slices) of the fields read here.
COL_RESNUM, COL_INSERT, COL_CHAIN, COL_AA, COL_SS = slice(5, 10), 10, 11, 13, 16
#: A PDB file needs at least these records for mkdssp; everything else is dropped on the second try.
PDB_KEEP = ("ATOM  ", "HETATM", "MODEL ", "ENDMDL", "TER")
#: A P1 unit cell of 1 A: DSSP reads the record but uses no crystal symmetry.
CRYST1_P1 = "CRYST1    1.000    1.000    1.000  90.00  90.00  90.00 P 1           1          "


@dataclass
class LabelledChain:
    """One chain's residues and 8-state labels ('X' where unobserved), as DSSP assigned them."""

    id: str
    chain: str
    sequence: str
    ss8: str


def mkdssp_binary() -> str:
    name = os.environ.get("SSPRED_MKDSSP", "mkdssp")
    found = shutil.which(name)
    if found is None:
        raise ToolError(f"mkdssp not found ({name!r} is not on PATH); install DSSP 4, e.g. 'apt-get install dssp'")
    return found


def sniff_format(path: Path) -> str:
    """'cif' or 'pdb' by content; an InputError for anything else."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", path=str(path)) from None
    text = head.decode("latin-1")
    if text.lstrip().startswith("data_") or "\n_atom_site." in text:
        return "cif"
    if any(line.startswith(("ATOM  ", "HETATM", "HEADER", "MODEL ")) for line in text.splitlines()):
        return "pdb"
    raise InputError("not a PDB or mmCIF structure (no 'data_' block and no ATOM records)", path=str(path))


def _sanitised_pdb(path: Path, out: Path) -> None:
    lines = Path(path).read_text(errors="replace").splitlines()
    kept = [line for line in lines if line.startswith(PDB_KEEP)]
    cryst = [line for line in lines if line.startswith("CRYST1")][:1] or [CRYST1_P1]
    header = f"HEADER    {'':40}{'':9}   {path.stem[:4].upper():4}"
    with atomic_output(out) as handle:
        handle.write("\n".join([header, *cryst, *kept, "END"]) + "\n")


def run_mkdssp(path: str | os.PathLike) -> str:
    """mkdssp's classic-format output for a PDB or mmCIF file."""
    path = Path(path)
    binary = mkdssp_binary()
    fmt = sniff_format(path)
    with tempfile.TemporaryDirectory(prefix="sspred-dssp-") as tmp:
        out = Path(tmp) / "out.dssp"
        attempts = [path]
        if fmt == "pdb":
            _sanitised_pdb(path, Path(tmp) / "clean.pdb")
            attempts.append(Path(tmp) / "clean.pdb")
        message = ""
        for source in attempts:
            proc = subprocess.run([binary, "--output-format", "dssp", str(source), str(out)],
                                  capture_output=True, text=True)
            if proc.returncode == 0 and out.exists():
                return out.read_text()
            lines = [l for l in (proc.stderr + proc.stdout).splitlines() if l.strip()]
            message = message or (lines[-1] if lines else f"exit {proc.returncode}")
    raise InputError(f"mkdssp could not read this structure: {message}", path=str(path))


def parse_dssp(text: str, name: str = "dssp", *, path: str = "<dssp>") -> list[LabelledChain]:
    """Chains of a classic DSSP file, in file order, with 'X' residues at breaks."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(TABLE_HEADER)), None)
    if start is None:
        raise InputError("no residue table ('  #  RESIDUE' line) in the DSSP output", path=path)
    chains: dict[str, tuple[list[str], list[str]]] = {}
    last: dict[str, int] = {}
    pending_break = False
    for lineno, line in enumerate(lines[start + 1:], start=start + 2):
        if len(line) <= COL_SS:
            continue
        aa = line[COL_AA]
        if aa == "!":
            pending_break = True
            continue
        chain = line[COL_CHAIN]
        try:
            number = int(line[COL_RESNUM])
        except ValueError:
            raise InputError(f"residue number {line[COL_RESNUM]!r} is not a number", path=path, line=lineno) from None
        seq, ss = chains.setdefault(chain, ([], []))
        if pending_break and seq:
            # Missing residues by the author numbering; one stand-in where the numbering cannot tell.
            gap = number - last[chain] - 1
            seq.append(UNOBSERVED * max(gap, 1))
            ss.append(UNOBSERVED * max(gap, 1))
        pending_break = False
        seq.append("C" if aa.islower() else aa)  # a-z pair up disulfide-bonded cysteines
        letter = DSSP8_ALIASES.get(line[COL_SS], line[COL_SS])
        if letter not in STATES8:
            raise InputError(f"unknown DSSP state {line[COL_SS]!r}", path=path, line=lineno)
        ss.append(letter)
        last[chain] = number
    return [LabelledChain(f"{name}_{c}", c, "".join(seq), "".join(ss)) for c, (seq, ss) in chains.items()]


def protein_chains(path: str | os.PathLike) -> list[str]:
    """Author chain ids that hold amino acids in the first model (biotite reads the file)."""
    import biotite.structure as struc
    import biotite.structure.io.pdb as pdb
    import biotite.structure.io.pdbx as pdbx

    path = Path(path)
    try:
        if sniff_format(path) == "cif":
            atoms = pdbx.get_structure(pdbx.CIFFile.read(str(path)), model=1, use_author_fields=True)
        else:
            atoms = pdb.PDBFile.read(str(path)).get_structure(model=1)
    except InputError:
        raise
    except Exception as exc:  # biotite raises several types for malformed files
        raise InputError(f"cannot read the structure: {exc}", path=str(path)) from None
    ids = atoms.chain_id[struc.filter_amino_acids(atoms)]
    return list(dict.fromkeys(ids.tolist()))


@dataclass
class LabelResult:
    chains: list[LabelledChain]
    #: (chain id, reason) for protein chains that got no labels.
    failed: list[tuple[str, str]]


def label_structure(path: str | os.PathLike, name: str | None = None) -> LabelResult:
    """DSSP labels of every protein chain of a structure file; chains DSSP could not label are listed."""
    path = Path(path)
    name = name or path.name.split(".")[0]
    chains = parse_dssp(run_mkdssp(path), name, path=str(path))
    labelled = {c.chain for c in chains}
    failed = [(f"{name}_{c}", "no residue with a complete backbone (N, CA, C, O); DSSP cannot label it")
              for c in protein_chains(path) if c not in labelled]
    if not chains:
        raise InputError("no chain has a residue with a complete backbone (N, CA, C, O)", path=str(path))
    return LabelResult(chains, failed)
