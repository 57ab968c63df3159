"""Readers for the secondary-structure sets in shared/data, and the named-set registry.

Every reader returns a list of ``Chain``: residues as symbol codes, 3-state
labels and, where the set has them, 8-state labels. A residue that is
unobserved or outside the scored segment carries ``MASKED`` and is neither
trained on nor scored.

Two more per-residue targets ride along for multi-task training, each an
int8 array of the chain's length on every chain, "unknown" where the set
says nothing:
- ``disorder``: DISORDERED (1) for an unresolved residue, ORDERED (0) for a
  resolved one, DISORDER_UNKNOWN (-1). Filled by the netsurfp2 (mask.fasta)
  and CB513/TS115 (``disorder`` column) readers, the labels NetSurfP-2.0
  trained its disorder output on.
- ``conservation``: ConSurf class 1-9, CONSERVATION_UNKNOWN (0). Filled by
  the flip-conservation reader, whose chains have no secondary structure.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from sspred.alphabet import (CONSERVATION_CLASSES, CONSERVATION_UNKNOWN, DISORDER_UNKNOWN, DISORDERED,
                             DSSP8_ALIASES, DSSP8_TO_3, MASKED, ORDERED, STATES3, STATES8)
from sspred.errors import InputError
from sspred.features import encode
from sspred.io.fasta import read_fasta
from sspred.io.textfile import open_text

#: Environment variable naming the data directory.
DATA_ENV = "SSPRED_DATA"
#: Fallback data directory, relative to the working directory (a developer's checkout).
DEFAULT_DATA_DIR = Path("../shared/data")


@dataclass
class Chain:
    """A labelled chain. Labels are int8 state indices, MASKED where not scored.

    ``disorder`` and ``conservation`` (int8, one per residue) default to
    all-unknown, so every chain carries both and a multi-task loss masks
    what a set lacks.
    """

    id: str
    sequence: str
    codes: np.ndarray
    y3: np.ndarray
    y8: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    #: DISORDERED / ORDERED per residue; DISORDER_UNKNOWN where the set does not say.
    disorder: np.ndarray | None = None
    #: Conservation class 1-9 per residue; CONSERVATION_UNKNOWN (0) where the set has none.
    conservation: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.sequence)
        if self.disorder is None:
            self.disorder = np.full(n, DISORDER_UNKNOWN, dtype=np.int8)
        if self.conservation is None:
            self.conservation = np.full(n, CONSERVATION_UNKNOWN, dtype=np.int8)

    def labels(self, states: str = "3") -> np.ndarray:
        if states == "3":
            return self.y3
        if self.y8 is None:
            raise InputError("this set has no 8-state labels", record=self.id)
        return self.y8


def _state_indices(letters: str, table: str, *, path: str, record: str) -> np.ndarray:
    lookup = np.full(256, -2, dtype=np.int8)
    for i, s in enumerate(table):
        lookup[ord(s)] = i
    raw = np.frombuffer(letters.encode("latin-1", errors="replace"), dtype=np.uint8)
    out = lookup[raw]
    bad = np.flatnonzero(out == -2)
    if bad.size:
        raise InputError(f"unknown state letter {letters[bad[0]]!r}", path=path, record=record,
                         position=int(bad[0]) + 1)
    return out


def make_chain(chain_id: str, sequence: str, ss: str, *, eight: bool, mask: np.ndarray | None = None,
               path: str = "<input>", unobserved: str = "", disorder: np.ndarray | None = None) -> Chain:
    """Build a Chain from residues and a label string (3- or 8-state letters).

    ``unobserved`` letters in ``ss`` (e.g. 'X') mask their residue; ``mask`` is a
    boolean array, True where the residue is scored. ``disorder`` (int8, see
    ``Chain``) is stored as given; None leaves it unknown.
    """
    # The position is where the shorter of the two runs out: the first residue (or label) without a partner.
    if len(ss) != len(sequence):
        raise InputError(f"{len(sequence)} residues but {len(ss)} labels", path=path, record=chain_id,
                         position=min(len(ss), len(sequence)) + 1)
    if mask is not None and mask.size != len(sequence):
        raise InputError(f"{len(sequence)} residues but a mask of {mask.size}", path=path, record=chain_id,
                         position=min(mask.size, len(sequence)) + 1)
    if disorder is not None and disorder.size != len(sequence):
        raise InputError(f"{len(sequence)} residues but {disorder.size} disorder flags", path=path, record=chain_id,
                         position=min(disorder.size, len(sequence)) + 1)
    codes = encode(sequence, path=path, record=chain_id)
    observed = np.array([c not in unobserved for c in ss], dtype=bool) if unobserved else np.ones(len(ss), bool)
    if mask is not None:
        observed &= mask
    clean = "".join("C" if not o else c for c, o in zip(ss, observed)) if unobserved else ss
    if eight:
        s8 = "".join(DSSP8_ALIASES.get(c, c) for c in clean)
        y8 = _state_indices(s8, STATES8, path=path, record=chain_id)
        s3 = "".join(DSSP8_TO_3[c] for c in s8)
    else:
        y8, s3 = None, clean
    y3 = _state_indices(s3, STATES3, path=path, record=chain_id)
    y3[~observed] = MASKED
    if y8 is not None:
        y8[~observed] = MASKED
    return Chain(chain_id, sequence, codes, y3, y8, disorder=disorder)


def disorder_from_resolved(resolved: np.ndarray) -> np.ndarray:
    """Disorder targets from a boolean "resolved in the structure" array: unresolved residues are disordered."""
    return np.where(resolved, ORDERED, DISORDERED).astype(np.int8)


# --- Qian & Sejnowski (UCI) ----------------------------------------------------------------

#: UCI label letters: h helix, e strand, _ coil.
UCI_STATES = {"h": "H", "e": "E", "_": "C"}


def read_uci(path: str | os.PathLike, prefix: str | None = None) -> list[Chain]:
    """The UCI Qian-Sejnowski files: 'AA label' per line; '<>' opens and '<end>' (or 'end') closes a protein."""
    path = str(path)
    prefix = prefix or Path(path).suffix.lstrip(".") or "qs"
    chains: list[Chain] = []
    seq: list[str] = []
    ss: list[str] = []

    def flush() -> None:
        if seq:
            cid = f"{prefix}{len(chains) + 1:03d}"
            chains.append(make_chain(cid, "".join(seq), "".join(ss), eight=False, path=path))
            seq.clear()
            ss.clear()

    with open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if text in ("<>", "end", "<end>"):
                flush()
            else:
                parts = text.split()
                if len(parts) != 2 or len(parts[0]) != 1 or parts[1] not in UCI_STATES:
                    raise InputError(f"expected 'AA label' with label h, e or _, got {text[:40]!r}",
                                     path=path, line=lineno)
                seq.append(parts[0])
                ss.append(UCI_STATES[parts[1]])
    flush()
    return chains


# --- NetSurfP-2.0 (FLIP) -----------------------------------------------------------------

def _fasta_dict(path: Path) -> dict[str, tuple[str, str]]:
    with open_text(path) as handle:
        out = {}
        for header, body, _ in read_fasta(handle, str(path)):
            out[header.split()[0]] = (header, body)
        return out


def read_netsurfp2(folder: str | os.PathLike) -> dict[str, list[Chain]]:
    """The FLIP trio: sequences.fasta, sampled.fasta (labels, SET=/VALIDATION=), mask.fasta.

    Returns splits: train (SET=train, VALIDATION=False), valid (VALIDATION=True), test (SET=test, NEW364).
    """
    folder = Path(folder)
    seqs = _fasta_dict(folder / "sequences.fasta")
    labels = _fasta_dict(folder / "sampled.fasta")
    masks = _fasta_dict(folder / "mask.fasta")
    splits: dict[str, list[Chain]] = {"train": [], "valid": [], "test": []}
    for cid, (header, ss) in labels.items():
        attrs = dict(tok.split("=", 1) for tok in header.split()[1:] if "=" in tok)
        if cid not in seqs or cid not in masks:
            raise InputError("label record has no sequence or mask", path=str(folder / "sampled.fasta"), record=cid)
        mask_str = masks[cid][1]
        mask = np.frombuffer(mask_str.encode(), dtype=np.uint8) == ord("1")
        chain = make_chain(cid, seqs[cid][1], ss, eight=False, mask=mask, path=str(folder / "sampled.fasta"),
                           disorder=disorder_from_resolved(mask))
        split = "test" if attrs.get("SET") == "test" else ("valid" if attrs.get("VALIDATION") == "True" else "train")
        splits[split].append(chain)
    return splits


# --- CB513 / TS115 CSV (ps4-dataset) -----------------------------------------------------

def read_ps4_csv(path: str | os.PathLike, use_cb513_mask: bool) -> list[Chain]:
    """CSV with columns input, dssp3, dssp8, disorder, cb513_mask; each a space-separated list.

    Scored residues: disorder == 1 (observed), and cb513_mask == 1 when ``use_cb513_mask``.
    The disorder target covers the whole chain (cb513_mask does not limit it): 0 in ``disorder`` is DISORDERED.
    """
    path = str(path)
    chains = []
    stem = Path(path).stem.split("_")[0].lower()
    with open_text(path) as handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader, [])]
            missing = [name for name in ("input", "dssp8", "disorder") + (("cb513_mask",) if use_cb513_mask else ())
                       if name not in header]
            if missing:
                raise InputError(f"CSV header lacks column(s) {', '.join(missing)}", path=path, line=1)
            col = {name: header.index(name) for name in ("input", "dssp3", "dssp8", "disorder", "cb513_mask")
                   if name in header}
            for row_no, row in enumerate(reader, start=1):
                if not row:
                    continue
                cid = f"{stem}-{row_no:03d}"
                if len(row) < len(header):
                    raise InputError(f"{len(row)} columns, the header has {len(header)}", path=path, record=cid,
                                     line=reader.line_num)
                seq = "".join(row[col["input"]].split())
                ss8 = "".join(row[col["dssp8"]].split())
                n = len(seq)
                mask = _flags(row[col["disorder"]], path=path, record=cid, column="disorder")
                disorder = disorder_from_resolved(mask)  # before the CB513 segment narrows ``mask``
                if use_cb513_mask:
                    cb = _flags(row[col["cb513_mask"]], path=path, record=cid, column="cb513_mask")
                    if cb.size != n:
                        raise InputError(f"{n} residues but a cb513_mask of {cb.size}", path=path, record=cid,
                                         position=min(cb.size, n) + 1)
                    if mask.size == n:
                        mask &= cb
                chains.append(make_chain(cid, seq, ss8, eight=True, mask=mask, path=path, disorder=disorder))
        except csv.Error as exc:
            raise InputError(f"malformed CSV: {exc}", path=path, line=reader.line_num) from None
    return chains


def _flags(text: str, *, path: str, record: str, column: str) -> np.ndarray:
    """A space-separated column of 0/1 (written as numbers) as booleans, True where 1."""
    try:
        return np.array([float(v) == 1.0 for v in text.split()], dtype=bool)
    except ValueError:
        bad = next(k for k, v in enumerate(text.split()) if not _is_number(v))
        raise InputError(f"{column} value {text.split()[bad][:20]!r} is not a number", path=path, record=record,
                         position=bad + 1) from None


def _is_number(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


# --- FLIP conservation (Marquet et al. 2021) ----------------------------------------------

def _conservation_classes(digits: str, *, path: str, record: str) -> np.ndarray:
    """One class digit 1-9 per residue as int8; any other character is an error naming its position."""
    lookup = np.full(256, -1, dtype=np.int8)
    for k in range(1, CONSERVATION_CLASSES + 1):
        lookup[ord(str(k))] = k
    out = lookup[np.frombuffer(digits.encode("latin-1", errors="replace"), dtype=np.uint8)]
    bad = np.flatnonzero(out < 0)
    if bad.size:
        raise InputError(f"conservation class {digits[bad[0]]!r} is not a digit 1-{CONSERVATION_CLASSES}",
                         path=path, record=record, position=int(bad[0]) + 1)
    return out


def read_conservation(folder: str | os.PathLike) -> dict[str, list[Chain]]:
    """The FLIP conservation pair: sequences.fasta and sampled.fasta (a class 1-9 per residue, SET=/VALIDATION=).

    Returns splits as ``read_netsurfp2`` does: train (SET=train, VALIDATION=False), valid (VALIDATION=True),
    test (SET=test). Chains carry ``conservation`` and no secondary structure (every y3 MASKED). A sequence
    without a label record (39 in the shared copy) has no split and is left out.
    """
    folder = Path(folder)
    label_path = str(folder / "sampled.fasta")
    seqs = _fasta_dict(folder / "sequences.fasta")
    labels = _fasta_dict(folder / "sampled.fasta")
    splits: dict[str, list[Chain]] = {"train": [], "valid": [], "test": []}
    for cid, (header, digits) in labels.items():
        attrs = dict(tok.split("=", 1) for tok in header.split()[1:] if "=" in tok)
        if cid not in seqs:
            raise InputError("label record has no sequence", path=label_path, record=cid)
        sequence = seqs[cid][1]
        if len(digits) != len(sequence):
            raise InputError(f"{len(sequence)} residues but {len(digits)} conservation classes", path=label_path,
                             record=cid, position=min(len(digits), len(sequence)) + 1)
        classes = _conservation_classes(digits, path=label_path, record=cid)
        codes = encode(sequence, path=str(folder / "sequences.fasta"), record=cid)
        chain = Chain(cid, sequence, codes, np.full(len(sequence), MASKED, dtype=np.int8), conservation=classes)
        split = "test" if attrs.get("SET") == "test" else ("valid" if attrs.get("VALIDATION") == "True" else "train")
        splits[split].append(chain)
    return splits


# --- three-line DSSP sets (LIFT_SS) ------------------------------------------------------

#: Header token of a three-line record whose labels are 3-state (H/E/C), not DSSP's 8 states.
THREE_STATE_TAG = "states=3"
#: Label letter of an unobserved or unscored residue in the three-line format.
UNOBSERVED = "X"


def read_three_line(path: str | os.PathLike) -> list[Chain]:
    """'>ID', sequence, 8-state labels per chain; 'X' marks an unobserved residue.

    A header carrying ``states=3`` (written by ``write_three_line`` for sets
    with only 3-state labels) holds H/E/C labels instead.
    """
    path = str(path)
    chains = []
    with open_text(path) as handle:
        lines = [(i, l.strip()) for i, l in enumerate(handle, start=1) if l.strip()]
    if len(lines) % 3:
        raise InputError(f"expected 3 lines per chain, got {len(lines)} non-blank lines", path=path)
    for k in range(0, len(lines), 3):
        (ln, head), (_, seq), (_, ss) = lines[k:k + 3]
        if not head.startswith(">"):
            raise InputError(f"expected a '>' header, got {head[:40]!r}", path=path, line=ln)
        words = head[1:].split()
        if not words:
            raise InputError("header has no id", path=path, line=ln)
        chains.append(make_chain(words[0], seq, ss, eight=THREE_STATE_TAG not in words[1:], path=path,
                                 unobserved=UNOBSERVED))
    return chains


def three_line_record(chain: Chain) -> str:
    """One chain in the three-line format; masked residues are written 'X' so a reader masks them again."""
    if chain.y8 is not None:
        letters, y, tag = STATES8, chain.y8, ""
    else:
        letters, y, tag = STATES3, chain.y3, " " + THREE_STATE_TAG
    table = np.array(list(letters + UNOBSERVED))
    ss = "".join(table[np.where(y >= 0, y, len(letters))])  # MASKED (-1) -> the UNOBSERVED letter
    return f">{chain.id}{tag}\n{chain.sequence}\n{ss}\n"


def write_three_line(chains: Iterable[Chain], handle) -> int:
    """Write chains to a text handle in the format ``read_three_line`` reads; returns the count."""
    n = 0
    for chain in chains:
        handle.write(three_line_record(chain))
        n += 1
    return n


# --- the registry of named sets ----------------------------------------------------------

#: Fraction of chains held out for validation where a set has no published validation split.
HOLDOUT_FRACTION = 0.1
#: Seed of that hold-out, fixed so every run sees the same split.
HOLDOUT_SEED = 1988

DSSP8_FILES = ("SPOT_1D_Valid.txt", "PISCES_25_valid.txt", "CB634_valid.txt", "Test2016.txt")


def _holdout(chains: list[Chain], fraction: float, seed: int) -> tuple[list[Chain], list[Chain]]:
    order = np.random.default_rng(seed).permutation(len(chains))
    n_out = max(1, int(round(fraction * len(chains))))
    out = set(order[:n_out].tolist())
    return [c for i, c in enumerate(chains) if i not in out], [c for i, c in enumerate(chains) if i in out]


def _qs1988(d: Path) -> dict[str, list[Chain]]:
    train = read_uci(d / "qian-sejnowski-1988/protein-secondary-structure.train", prefix="qs-train-")
    test = read_uci(d / "qian-sejnowski-1988/protein-secondary-structure.test", prefix="qs-test-")
    train, valid = _holdout(train, HOLDOUT_FRACTION, HOLDOUT_SEED)
    return {"train": train, "valid": valid, "test": test}


def _dssp8(d: Path) -> dict[str, list[Chain]]:
    chains = [c for name in DSSP8_FILES for c in read_three_line(d / "dssp8-pdb-sets" / name)]
    rest, test = _holdout(chains, HOLDOUT_FRACTION, HOLDOUT_SEED)
    train, valid = _holdout(rest, HOLDOUT_FRACTION / (1 - HOLDOUT_FRACTION), HOLDOUT_SEED + 1)
    return {"train": train, "valid": valid, "test": test}


#: Named sets: name -> function of the data directory returning {split: chains}.
DATASETS: dict[str, Callable[[Path], dict[str, list[Chain]]]] = {
    "qs1988": _qs1988,
    "netsurfp2": lambda d: read_netsurfp2(d / "netsurfp2"),
    "cb513": lambda d: {"test": read_ps4_csv(d / "cb513/CB513_HHblits.csv", use_cb513_mask=True)},
    "ts115": lambda d: {"test": read_ps4_csv(d / "ts115/TS115_HHblits.csv", use_cb513_mask=False)},
    "dssp8": _dssp8,
    "conservation": lambda d: read_conservation(d / "flip-conservation"),
}


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data directory: the explicit one, else $SSPRED_DATA, else ../shared/data."""
    return Path(explicit or os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR)


def read_file(path: str | os.PathLike) -> list[Chain]:
    """A labelled file in any supported format, told apart by its content."""
    path = Path(path)
    if path.is_dir() and (path / "sampled.fasta").exists():
        # The netsurfp2 folder has a mask.fasta; the conservation folder, with digit labels, has none.
        splits = read_netsurfp2(path) if (path / "mask.fasta").exists() else read_conservation(path)
        return splits["train"] + splits["valid"] + splits["test"]
    with open_text(path) as handle:
        head = handle.read(4096)
    first = head.lstrip().splitlines()[0] if head.strip() else ""
    if first.startswith("input"):
        return read_ps4_csv(path, use_cb513_mask="cb513_mask" in first and "cb513" in path.name.lower())
    if first.startswith(">"):
        return read_three_line(path)
    if first.startswith("<>") or first.startswith("#") or (len(first.split()) == 2 and len(first.split()[0]) == 1):
        return read_uci(path)
    raise InputError("unrecognised labelled-data format (expected UCI, ps4 CSV, 3-line DSSP or a netsurfp2 folder)",
                     path=str(path))


def load(name: str, split: str, directory: str | os.PathLike | None = None) -> list[Chain]:
    """Chains of a named set's split, or of an explicit file (all of it, for any split)."""
    if name not in DATASETS:
        if Path(name).exists():
            return read_file(name)
        raise InputError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)} or give a file path")
    d = data_dir(directory)
    if not d.exists():
        raise InputError(f"data directory not found (set --data-dir or ${DATA_ENV})", path=str(d))
    splits = DATASETS[name](d)
    if split not in splits:
        raise InputError(f"set {name!r} has no {split!r} split; it has {', '.join(splits)}")
    return splits[split]


def count_scored(chains: Iterable[Chain]) -> int:
    return int(sum((c.y3 >= 0).sum() for c in chains))
