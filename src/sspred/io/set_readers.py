"""Readers of the labelled sets' formats: UCI Qian-Sejnowski, the NetSurfP-2.0 and conservation
FASTA trios of FLIP, and the ps4 CSV of CB513/TS115; ``read_file`` tells a file's format by its content.

Each returns ``Chain`` objects (a list, or splits of them), and a bad record is an InputError naming
the file, record and position. The three-line DSSP format has its own module (``three_line``), with
its writer.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Callable

import numpy as np

from sspred.alphabet import CONSERVATION_CLASSES, MASKED
from sspred.errors import InputError
from sspred.features import encode
from sspred.io.chain import Chain, disorder_from_resolved, make_chain
from sspred.io.fasta import read_fasta
from sspred.io.textfile import open_text
from sspred.io.three_line import read_three_line


# --- Qian & Sejnowski (UCI) ----------------------------------------------------------------

#: UCI label letters: h helix, e strand, _ coil.
UCI_STATES = {"h": "H", "e": "E", "_": "C"}


def read_uci(path: str | os.PathLike, prefix: str | None = None) -> list[Chain]:
    """Read a UCI Qian-Sejnowski file: 'AA label' per line; '<>' opens and '<end>' (or 'end') closes a protein.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    prefix : str, optional
        The chain ids' prefix, numbered 001, 002, ...; defaults to the file's suffix, or "qs".

    Returns
    -------
    list of Chain
        The chains, with 3-state labels.

    Raises
    ------
    sspred.InputError
        For a line that is not 'AA label' with label h, e or _.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "set.train"
    >>> _ = path.write_text("<>\\nM _\\nK h\\nV e\\nend\\n")
    >>> [(c.id, c.sequence, c.y3.tolist()) for c in read_uci(path)]
    [('train001', 'MKV', [0, 1, 2])]
    """
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


def _flip_split(header: str) -> str:
    """The split a FLIP label header names: test (SET=test), valid (VALIDATION=True), else train."""
    attrs = dict(tok.split("=", 1) for tok in header.split()[1:] if "=" in tok)
    return "test" if attrs.get("SET") == "test" else ("valid" if attrs.get("VALIDATION") == "True" else "train")


def _flip_splits(folder: Path, build: Callable[[str, str, str], Chain]) -> dict[str, list[Chain]]:
    """A FLIP folder's chains by split: ``build(id, sequence, labels)`` makes each labelled record of
    sampled.fasta into a chain, with its sequence from sequences.fasta."""
    seqs = _fasta_dict(folder / "sequences.fasta")
    splits: dict[str, list[Chain]] = {"train": [], "valid": [], "test": []}
    for cid, (header, labels) in _fasta_dict(folder / "sampled.fasta").items():
        if cid not in seqs:
            raise InputError("label record has no sequence", path=str(folder / "sampled.fasta"), record=cid)
        splits[_flip_split(header)].append(build(cid, seqs[cid][1], labels))
    return splits


def read_netsurfp2(folder: str | os.PathLike) -> dict[str, list[Chain]]:
    """Read the FLIP trio: sequences.fasta, sampled.fasta (labels, SET=/VALIDATION=) and mask.fasta.

    Splits: train (SET=train, VALIDATION=False), valid (VALIDATION=True), test (SET=test, NEW364). The mask
    both limits the scored residues and gives the disorder targets (unresolved residues are disordered).

    Parameters
    ----------
    folder : str or os.PathLike
        The folder that holds the three files.

    Returns
    -------
    dict of str to list of Chain
        The chains of each split: "train", "valid", "test".

    Raises
    ------
    sspred.InputError
        For a missing file, a label record without its sequence (or mask), or a malformed record.
    """
    folder = Path(folder)
    label_path = str(folder / "sampled.fasta")
    masks = _fasta_dict(folder / "mask.fasta")

    def build(cid: str, sequence: str, ss: str) -> Chain:
        if cid not in masks:
            raise InputError("label record has no mask", path=label_path, record=cid)
        mask = np.frombuffer(masks[cid][1].encode(), dtype=np.uint8) == ord("1")
        return make_chain(cid, sequence, ss, eight=False, mask=mask, path=label_path,
                          disorder=disorder_from_resolved(mask))

    return _flip_splits(folder, build)


# --- CB513 / TS115 CSV (ps4-dataset) -----------------------------------------------------

def read_ps4_csv(path: str | os.PathLike, use_cb513_mask: bool) -> list[Chain]:
    """Read a CSV with columns input, dssp3, dssp8, disorder, cb513_mask; each a space-separated list.

    Scored residues: disorder == 1 (observed), and cb513_mask == 1 when ``use_cb513_mask``.
    The disorder target covers the whole chain (cb513_mask does not limit it): 0 in ``disorder`` is DISORDERED.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    use_cb513_mask : bool
        Whether cb513_mask limits the scored residues.

    Returns
    -------
    list of Chain
        The chains, with 3- and 8-state labels and disorder targets.

    Raises
    ------
    sspred.InputError
        For a missing column, a row of the wrong width, a bad number, or lengths that differ.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "set.csv"
    >>> _ = path.write_text("input,dssp3,dssp8,disorder,cb513_mask\\nM K V,C H E,C H E,1 1 0,1 1 1\\n")
    >>> chain = read_ps4_csv(path, use_cb513_mask=False)[0]
    >>> chain.sequence, chain.y3.tolist(), chain.disorder.tolist()
    ('MKV', [0, 1, -1], [0, 0, 1])
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
    """Read the FLIP conservation pair: sequences.fasta and sampled.fasta (a class 1-9 per residue).

    Splits as ``read_netsurfp2`` has them: train (SET=train, VALIDATION=False), valid (VALIDATION=True),
    test (SET=test). Chains carry ``conservation`` and no secondary structure (every y3 MASKED). A sequence
    without a label record (39 in the shared copy) has no split and is left out.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder that holds the two files.

    Returns
    -------
    dict of str to list of Chain
        The chains of each split: "train", "valid", "test".

    Raises
    ------
    sspred.InputError
        For a missing file, a label record without its sequence (or mask), or a malformed record.
    """
    folder = Path(folder)
    label_path = str(folder / "sampled.fasta")

    def build(cid: str, sequence: str, digits: str) -> Chain:
        if len(digits) != len(sequence):
            raise InputError(f"{len(sequence)} residues but {len(digits)} conservation classes", path=label_path,
                             record=cid, position=min(len(digits), len(sequence)) + 1)
        classes = _conservation_classes(digits, path=label_path, record=cid)
        codes = encode(sequence, path=str(folder / "sequences.fasta"), record=cid)
        return Chain(cid, sequence, codes, np.full(len(sequence), MASKED, dtype=np.int8), conservation=classes)

    return _flip_splits(folder, build)


# --- any of them, told apart by content --------------------------------------------------

def read_file(path: str | os.PathLike) -> list[Chain]:
    """Read a labelled file in any supported format, told apart by its content.

    UCI, ps4 CSV, the three-line DSSP format, or a FLIP folder (netsurfp2 or conservation: every split).

    Parameters
    ----------
    path : str or os.PathLike
        The file or folder.

    Returns
    -------
    list of Chain
        Every chain it holds.

    Raises
    ------
    sspred.InputError
        For a format it does not recognise, or a malformed file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "set.txt"
    >>> _ = path.write_text(">a\\nMKV\\nCHE\\n")
    >>> [(c.id, c.y8.tolist()) for c in read_file(path)]
    [('a', [7, 0, 3])]
    """
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
