"""Homology-aware splits and the leakage audit, with real MMseqs2 (Steinegger & Soeding 2017).

A test chain "leaks" when some training chain aligns to it with at least
``identity`` (MMSeqs2's ``fident``: identical columns / alignment columns)
over at least ``coverage`` of the SHORTER of the two chains, at an E-value
below ``evalue``. Coverage of the shorter chain, not of both, because the
sets nest: a CB513 segment or a single domain inside a longer training chain
is covered completely on its own side and only partly on the other, and it is
still the same protein.

``cluster`` joins chains that leak into each other into connected components
(single linkage over an all-against-all search). That is stricter than
MMseqs2's greedy set-cover clustering, where two members of different
clusters may still be similar; with components, a split at a threshold
passes the audit at the same threshold by construction.

Parameters, and why:
- ``-s 7.5``: MMseqs2's most sensitive prefilter setting. At 25% identity the
  homologs are remote, and the default (5.7) misses some of them.
- ``-e 1e-3`` (MMseqs2's default): an alignment worse than this is as likely
  to be chance, and chance local alignments of unrelated chains reach 25%
  identity often: in an all-against-all search of netsurfp2 at E <= 10,
  4,496 pairs pass 25%/80%, against 3,838 at E <= 1e-3, and the extra 17%
  sit at the 25% edge with E-values near 10.
- Low-complexity masking stays on (``--mask 1``) in the k-mer stage only, so
  repeats do not flood the prefilter while the alignment still sees every
  residue. Chains shorter than ``MIN_SEARCHABLE`` go unfound: an identical
  10-residue fragment of a chain is not found even at E = 10, a 12-residue
  one is. The sets here have one chain under 12 (a UCI training chain of 11).
- ``--max-seqs 1000``: the prefilter's cap on candidates per query (default
  300); large families in a 10,000-chain set can crowd the best hit out.
"""

from __future__ import annotations

import os
import shutil
from importlib import resources
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from sspred.errors import ToolError
from sspred.io.textfile import atomic_output

#: Identity at which NetSurfP-2.0 removed homologs (and at which the field reports).
IDENTITY = 0.25
#: Fraction of the shorter chain the alignment must cover to count.
COVERAGE = 0.8
#: MMseqs2 prefilter sensitivity: 7.5 is its most sensitive setting, for remote homologs.
SENSITIVITY = 7.5
#: Alignments with a larger E-value are not evidence of homology.
EVALUE = 1e-3
#: Prefilter candidates per query (MMseqs2's default is 300).
MAX_SEQS = 1000
#: Columns asked of ``easy-search``, in the order ``_parse_hits`` reads them.
FIELDS = "query,target,fident,qstart,qend,qlen,tstart,tend,tlen,evalue,bits"
#: Shortest chain MMseqs2 finds even when identical (measured with -s 7.5; see the module docstring).
MIN_SEARCHABLE = 12
#: Split names, in the order their fractions are given.
SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Hit:
    """One alignment of a query chain to a target chain."""

    query: str
    target: str
    identity: float
    qcov: float
    tcov: float
    evalue: float
    bits: float
    qlen: int
    tlen: int

    @property
    def coverage(self) -> float:
        """Fraction of the shorter chain that the alignment covers."""
        return self.qcov if self.qlen <= self.tlen else self.tcov

    def leaks(self, identity: float, coverage: float) -> bool:
        return self.identity >= identity and self.coverage >= coverage


@dataclass(frozen=True)
class SearchSettings:
    sensitivity: float = SENSITIVITY
    evalue: float = EVALUE
    max_seqs: int = MAX_SEQS
    threads: int = 0  # 0: every core, as MMseqs2 would choose

    def args(self) -> list[str]:
        out = ["-s", str(self.sensitivity), "-e", str(self.evalue), "--max-seqs", str(self.max_seqs)]
        return out + (["--threads", str(self.threads)] if self.threads else [])


def mmseqs_binary() -> str:
    """Path of the mmseqs executable ($SSPRED_MMSEQS, else mmseqs on PATH)."""
    name = os.environ.get("SSPRED_MMSEQS", "mmseqs")
    found = shutil.which(name)
    if found is None:
        raise ToolError(f"MMseqs2 not found ({name!r} is not on PATH); install it, e.g. "
                        "'apt-get install mmseqs2' or 'conda install -c bioconda mmseqs2'")
    return found


def _write_fasta(path: Path, sequences: Sequence[str], prefix: str) -> None:
    # Ids are positions, not the user's ids: those may repeat or hold characters MMseqs2 splits on.
    with atomic_output(path) as handle:
        for i, seq in enumerate(sequences):
            handle.write(f">{prefix}{i}\n{seq}\n")


def _run(args: list[str]) -> None:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise ToolError(f"mmseqs {args[1]} failed (exit {proc.returncode}): " + " | ".join(tail))


def _parse_hits(path: Path, query_ids: Sequence[str], target_ids: Sequence[str]) -> list[Hit]:
    hits = []
    with open(path) as handle:
        for line in handle:
            q, t, fid, qs, qe, ql, ts, te, tl, ev, bits = line.split("\t")
            qlen, tlen = int(ql), int(tl)
            hits.append(Hit(query_ids[int(q[1:])], target_ids[int(t[1:])], float(fid),
                            (int(qe) - int(qs) + 1) / qlen, (int(te) - int(ts) + 1) / tlen,
                            float(ev), float(bits), qlen, tlen))
    return hits


def search(queries: Sequence[tuple[str, str]], targets: Sequence[tuple[str, str]],
           settings: SearchSettings = SearchSettings()) -> list[Hit]:
    """Every alignment MMseqs2 finds from each (id, sequence) query to each target; temporary files removed."""
    binary = mmseqs_binary()
    if not queries or not targets:
        return []
    with tempfile.TemporaryDirectory(prefix="sspred-mmseqs-") as tmp_name:
        tmp = Path(tmp_name)
        _write_fasta(tmp / "q.fasta", [s for _, s in queries], "q")
        _write_fasta(tmp / "t.fasta", [s for _, s in targets], "t")
        _run([binary, "easy-search", str(tmp / "q.fasta"), str(tmp / "t.fasta"), str(tmp / "hits.m8"),
              str(tmp / "work"), "--format-output", FIELDS, "-v", "1", *settings.args()])
        return _parse_hits(tmp / "hits.m8", [i for i, _ in queries], [i for i, _ in targets])


def best_hits(hits: Iterable[Hit], coverage: float) -> dict[str, Hit]:
    """Per query, the hit of highest identity among those covering enough; failing that, of highest identity."""
    best: dict[str, Hit] = {}
    for h in hits:
        key = (h.coverage >= coverage, h.identity, h.coverage)
        old = best.get(h.query)
        if old is None or key > (old.coverage >= coverage, old.identity, old.coverage):
            best[h.query] = h
    return best


def write_hits(path: str | os.PathLike, hits: Iterable[Hit]) -> None:
    """Hits as TSV, one per line in ``Hit``'s field order: a search's cache, read back by ``read_hits``.

    Written atomically, so an interrupted run leaves no half cache for the next one to trust.
    """
    with atomic_output(path, "w") as handle:
        for h in hits:
            handle.write("\t".join(map(str, (h.query, h.target, h.identity, h.qcov, h.tcov, h.evalue, h.bits,
                                             h.qlen, h.tlen))) + "\n")


def read_hits(path: str | os.PathLike) -> list[Hit]:
    """The hits ``write_hits`` wrote (floats round-trip exactly: ``str`` of a float is its shortest repr).

    >>> import tempfile, pathlib
    >>> h = Hit("q", "t", 0.5, 0.9, 0.8, 1e-30, 120.5, 100, 110)
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "hits.tsv"
    >>> write_hits(p, [h]); read_hits(p) == [h]
    True
    """
    out = []
    with open(path) as handle:
        for line in handle:
            q, t, i, qc, tc, e, b, ql, tl = line.rstrip("\n").split("\t")
            out.append(Hit(q, t, float(i), float(qc), float(tc), float(e), float(b), int(ql), int(tl)))
    return out


# --- clustering and splits -----------------------------------------------------------------

def components(n: int, edges: Iterable[tuple[int, int]]) -> np.ndarray:
    """Connected components of n nodes: label of each node = its component's smallest member."""
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(i) for i in range(n)])


def cluster(sequences: Sequence[tuple[str, str]], identity: float = IDENTITY, coverage: float = COVERAGE,
            settings: SearchSettings = SearchSettings()) -> np.ndarray:
    """Cluster label per chain: chains joined by any leak-strength alignment share a label (single linkage)."""
    keyed = [(str(i), s) for i, (_, s) in enumerate(sequences)]
    hits = search(keyed, keyed, settings)
    edges = ((int(h.query), int(h.target)) for h in hits if h.query != h.target and h.leaks(identity, coverage))
    return components(len(sequences), edges)


def assign_splits(labels: np.ndarray, fractions: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """Split name per chain, whole clusters at a time, in a random cluster order.

    Clusters fill test, then valid, up to their share of chains, and the rest
    go to train; a cluster too big for a held-out split's remaining room goes
    to train, so held-out splits are never larger than asked and big families
    train.
    """
    shares = np.asarray(fractions, dtype=float)
    assert shares.shape == (len(SPLITS),) and abs(shares.sum() - 1) < 1e-9
    uniq, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    room = {name: int(round(f * labels.size)) for name, f in zip(SPLITS, shares)}
    out_of_cluster = np.empty(uniq.size, dtype=object)
    for k in rng.permutation(uniq.size):
        dest = next((s for s in ("test", "valid") if sizes[k] <= room[s]), "train")
        room[dest] -= sizes[k]
        out_of_cluster[k] = dest
    return out_of_cluster[inverse]


def random_splits(n: int, fractions: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """Split name per chain at random, ignoring homology: the baseline the cluster split is measured against."""
    return assign_splits(np.arange(n), fractions, rng)


# --- the audit -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditRow:
    """A test chain and its closest training chain (None when MMseqs2 found no alignment)."""

    id: str
    length: int
    best: Hit | None
    leak: bool


@dataclass
class Audit:
    rows: list[AuditRow]
    #: Training chains with a leak-strength alignment to some test chain (not only the best one).
    leaking_train: set[str]
    identity: float
    coverage: float

    @property
    def leaking_test(self) -> set[str]:
        return {r.id for r in self.rows if r.leak}


def audit(train: Sequence[tuple[str, str]], test: Sequence[tuple[str, str]], identity: float = IDENTITY,
          coverage: float = COVERAGE, settings: SearchSettings = SearchSettings()) -> Audit:
    """For every test chain its closest training chain; leaks at ``identity`` over ``coverage``."""
    # Queries are keyed by position, so test ids that repeat (CB513 has such rows) keep their own rows.
    hits = search([(str(i), seq) for i, (_, seq) in enumerate(test)], train, settings)
    best = best_hits(hits, coverage)
    rows = []
    for i, (cid, seq) in enumerate(test):
        hit = best.get(str(i))
        rows.append(AuditRow(cid, len(seq), hit, hit is not None and hit.leaks(identity, coverage)))
    leaking_train = {h.target for h in hits if h.leaks(identity, coverage)}
    return Audit(rows, leaking_train, identity, coverage)


# --- the packaged leak lists ---------------------------------------------------------------------

#: Training set -> its packaged list of chains with a homolog in a test set, written by sspred.recipes.leaks:
#: netsurfp2's by its ``netsurfp2`` command (test sets cb513, ts115, netsurfp2/test, dssp8/Test2016); conservation's
#: and dssp8's (all four files) by its ``labels`` command (test sets cb513, ts115, netsurfp2/test).
LEAK_LISTS = {
    "netsurfp2": "leaks_netsurfp2.txt",
    "conservation": "leaks_conservation.txt",
    "dssp8": "leaks_dssp8.txt",
}


def leak_rows(train_set: str) -> list[list[str]]:
    """The rows of ``train_set``'s packaged leak list: id, source, test set, test id, identity, coverage."""
    if train_set not in LEAK_LISTS:
        raise ValueError(f"no leak list for {train_set!r}; there are lists for {', '.join(LEAK_LISTS)}")
    text = (resources.files("sspred.data") / LEAK_LISTS[train_set]).read_text()
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


def known_leaks(test_set: str | None = None, train_set: str | None = None) -> set[str]:
    """Ids of training chains with a homolog (25%, 80%) in ``test_set``, or in any listed one.

    ``train_set`` picks one list (netsurfp2, conservation, dssp8); None joins
    them all, so ``without_leaks`` filters a mixed multi-task pool in one call.
    Ids are the sets' own (PDB id and chain); one id dropped from a list drops
    that chain from every set, which errs on the side of leaving a homolog out.
    Test sets: cb513, ts115, netsurfp2/test (NEW364), and, in netsurfp2's list only, dssp8/Test2016.
    """
    names = LEAK_LISTS if train_set is None else (train_set,)
    return {r[0] for name in names for r in leak_rows(name) if test_set is None or r[2] == test_set}


def without_leaks(chains: list, test_set: str | None = None, train_set: str | None = None) -> list:
    """``chains`` less those in the leak lists (``known_leaks``), in order."""
    leaks = known_leaks(test_set, train_set)
    return [c for c in chains if c.id not in leaks]
