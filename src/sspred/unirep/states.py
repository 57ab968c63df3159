"""Per-residue UniRep features of chains: which states (``Spec``), computed in batches by either engine, and
cached on disk as float16 arrays that training reads memory-mapped.

A chain of L residues is read as a start token and its residues (L + 1 steps); residue i's feature is the
state after reading it. With ``reverse`` a second pass reads the reversed chain, so each residue also gets
a state that has seen everything to its right (UniRep was trained left to right only); its states are put
back in chain order and sit after the forward ones.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sspred.io.textfile import atomic_output
from sspred.unirep import weights as uw

#: Steps times chains per padded group of the torch engine on a CPU: bounds its (B, T, 4H) gate inputs (64 chains
#: of 300 fit). The NumPy engine steps a running batch instead (engines/numpy/mlstm.py's SLOTS).
BATCH_ROWS = 20_000
#: The same on a GPU, where one step's products want thousands of rows (1600 chains of 300: 15 GB of gate inputs).
GPU_BATCH_ROWS = 480_000
#: Cache folder: $SSPRED_CACHE, else ~/.cache/sspred.
ENV_CACHE = "SSPRED_CACHE"
#: Feature engines: the NumPy mLSTM, or the torch one (on --device).
ENGINES = ("numpy", "torch")


@dataclass(frozen=True)
class Spec:
    """Which UniRep states a network reads: the model size, the last cell's states or every cell's, and
    whether a second, right-to-left pass adds its states."""

    size: int = 1900
    cells: str = "last"
    reverse: bool = False

    def __post_init__(self):
        if self.size not in uw.SIZES:
            raise ValueError(f"unirep size must be one of {', '.join(map(str, uw.SIZES))}, got {self.size}")
        if self.cells not in ("last", "all"):
            raise ValueError(f"unirep cells must be 'last' or 'all', got {self.cells!r}")

    @property
    def n_cells(self) -> int:
        """Cells of the published model: one at 1900 units, four at 256 and 64."""
        return 1 if self.size == 1900 else 4

    @property
    def width(self) -> int:
        """Feature channels per residue."""
        return self.size * (self.n_cells if self.cells == "all" else 1) * (2 if self.reverse else 1)

    @property
    def key(self) -> str:
        return f"unirep{self.size}-{self.cells}{'-bi' if self.reverse else ''}"

    def to_dict(self) -> dict:
        return asdict(self)


def padded_groups(lengths: np.ndarray, max_rows: int, order: np.ndarray) -> list[np.ndarray]:
    """Chain indices in ``order`` (longest first) grouped so that each group padded to its longest chain,
    chains x steps, stays within ``max_rows`` (a longer chain goes alone)."""
    groups: list[np.ndarray] = []
    current: list[int] = []
    longest = 0
    for i in order:
        longest_if = max(longest, int(lengths[i]))
        if current and (len(current) + 1) * longest_if > max_rows:
            groups.append(np.array(current))
            current, longest_if = [], int(lengths[i])
        current.append(i)
        longest = longest_if
    if current:
        groups.append(np.array(current))
    return groups


def tokens(codes: np.ndarray) -> np.ndarray:
    """(L,) sspred symbol codes -> (L + 1,) UniRep codes, the start token first."""
    return np.concatenate([[uw.START], uw.TOKENS[codes]])


class Extractor:
    """Features of chains for one Spec, from one set of weights, by the NumPy or the torch engine.

    The NumPy engine steps ``slots`` chains at once per worker thread in a running batch (a chain that ends
    hands its slot to the next), ``workers`` threads (None: one per CPU); the torch engine steps groups of
    chains padded to their longest, ``batch_rows`` chains x steps a group.
    """

    def __init__(self, spec: Spec, weights: uw.Weights, engine: str = "numpy", device: str = "cpu",
                 batch_rows: int | None = None, slots: int | None = None, workers: int | None = None):
        if engine not in ENGINES:
            raise ValueError(f"feature engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        if weights.size != spec.size:
            raise ValueError(f"weights of {weights.size} units for a {spec.size}-unit spec")
        if batch_rows is None:
            batch_rows = GPU_BATCH_ROWS if engine == "torch" and str(device).startswith("cuda") else BATCH_ROWS
        self.spec, self.weights, self.engine, self.batch_rows = spec, weights, engine, batch_rows
        self.slots, self.workers = slots, workers
        self._torch = None
        if engine == "torch":
            from sspred.engines.torch.mlstm import TorchMLSTM

            self._torch = TorchMLSTM(weights.embedding, weights.cells, device)

    def _torch_pass(self, chains: list[np.ndarray], out: list[np.ndarray], offset: int, reverse: bool,
                    dtype) -> None:
        assert self._torch is not None
        lengths = np.array([c.size + 1 for c in chains], dtype=np.int64)
        order = np.argsort(-lengths, kind="stable")  # long chains together: less padding
        width = self.width_one
        for group in padded_groups(lengths, self.batch_rows, order):
            steps = int(lengths[group].max())
            # Rows shorter than the longest are right-padded with X: later steps never reach earlier states.
            batch = np.full((group.size, steps), uw.UNIREP_CODES["X"], dtype=np.int64)  # (B, T)
            for r, k in enumerate(group):
                codes = chains[k][::-1] if reverse else chains[k]
                batch[r, :lengths[k]] = tokens(codes)
            # float16 wanted: rounded where the states are (a GPU), so half the bytes cross to the host and the
            # host's one thread does no conversion.
            states = self._torch.states(batch, self.spec.cells == "all", half=np.dtype(dtype) == np.float16)
            for r, k in enumerate(group):
                h = states[r, 1:lengths[k]]  # (L, width): the states after each residue
                out[k][:, offset:offset + width] = h[::-1] if reverse else h

    def _numpy_pass(self, chains: list[np.ndarray], flat: np.ndarray, starts: np.ndarray, offset: int,
                    reverse: bool) -> None:
        from sspred.engines.numpy.mlstm import SLOTS, mlstm_rows

        order = np.argsort([-c.size for c in chains], kind="stable")  # longest first: the last batches stay full
        steps, rows = [], []
        for k in order:
            size = chains[k].size
            steps.append(tokens(chains[k][::-1] if reverse else chains[k]))
            # Step 0 reads the start token (its state is no residue's: -1, the scratch row); step s reads
            # residue s - 1, or with ``reverse`` residue L - s.
            at = np.arange(size)[::-1] if reverse else np.arange(size)
            rows.append(np.concatenate([[-1], starts[k] + at]))
        mlstm_rows(self.weights.embedding, self.weights.cells, steps, rows, flat[:, offset:offset + self.width_one],
                   self.spec.cells == "all", slots=self.slots or SLOTS, workers=self.workers)

    @property
    def width_one(self) -> int:
        """Channels of one pass."""
        return self.spec.width // (2 if self.spec.reverse else 1)

    def features(self, chains: list[np.ndarray], dtype=np.float32) -> list[np.ndarray]:
        """[(L_i,)] codes -> [(L_i, spec.width)] features (views of one array)."""
        starts = np.concatenate([[0], np.cumsum([c.size for c in chains])]).astype(np.int64)
        # One row more than the residues: the engine's scratch row for states no residue keeps.
        flat = np.zeros((int(starts[-1]) + 1, self.spec.width), dtype=dtype)
        out = [flat[starts[k]:starts[k + 1]] for k in range(len(chains))]
        nonempty = [i for i, c in enumerate(chains) if c.size]
        sub = [chains[i] for i in nonempty]
        passes = (False, True) if self.spec.reverse else (False,)
        for reverse, offset in zip(passes, (0, self.width_one)):
            if self._torch is not None:
                self._torch_pass(sub, [out[i] for i in nonempty], offset, reverse, dtype)
            else:
                self._numpy_pass(sub, flat, starts[nonempty], offset, reverse)
        return out


def extractor(spec: Spec, expected_sha256: str | None = None, what: str = "the model", engine: str = "numpy",
              device: str = "cpu") -> Extractor:
    """An Extractor over the installed weights of ``spec.size``, checked against ``expected_sha256``."""
    w = uw.load(spec.size)
    uw.check(w, expected_sha256, what)
    return Extractor(spec, w, engine, device)


def cache_dir() -> Path:
    return Path(os.environ.get(ENV_CACHE) or Path.home() / ".cache" / "sspred") / "unirep"


def chains_key(chains: list[np.ndarray]) -> str:
    """A digest of the chains in order: the cache key of a set (a filtered set gets its own)."""
    digest = hashlib.sha256()
    for c in chains:
        digest.update(np.int64(c.size).tobytes())
        digest.update(np.ascontiguousarray(c, dtype=np.uint8).tobytes())
    return digest.hexdigest()[:20]


def _stem(folder: Path, spec: Spec, sha: str, key: str) -> Path:
    return folder / f"{spec.key}-{sha[:12]}-{key}"


def _donor_columns(want: Spec, have: Spec) -> slice | None:
    """The columns of ``have``'s features that are ``want``'s, when they are one run of columns: the forward
    half of a two-pass cache, or the last cell's block of an every-cell one (forward pass only)."""
    if want.size != have.size or want == have or (want.reverse and not have.reverse):
        return None
    if want.cells == "all" and have.cells == "last" and want.n_cells > 1:
        return None
    if want.reverse:  # both passes wanted: only the very same columns would do
        return None
    one = have.width // (2 if have.reverse else 1)  # the forward pass's columns
    if want.cells == "last" and have.cells == "all" and have.n_cells > 1:
        return slice(one - want.size, one)
    return slice(0, one)


def cached_features(ext: Extractor, chains: list[np.ndarray], label: str = "set",
                    folder: str | os.PathLike | None = None, progress=None) -> list[np.ndarray]:
    """[(L_i, width)] float16 features of ``chains``, memory-mapped from a cache file keyed by the weights'
    checksum, the spec and the chains (``label`` is only recorded beside it); computed and written once, in
    chunks (``progress(done, total)`` after each), atomically. A cache of a wider spec over the same chains
    (both passes, or every cell) serves a narrower one as a column view, with nothing computed."""
    folder = Path(folder) if folder is not None else cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    key = chains_key(chains)
    stem = _stem(folder, ext.spec, ext.weights.sha256, key)
    path, meta = stem.with_suffix(".f16"), stem.with_suffix(".json")
    lengths = np.array([c.size for c in chains], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    total = int(offsets[-1])
    if not path.exists():
        for cells in ("all", "last"):
            for reverse in (True, False):
                have = Spec(ext.spec.size, cells, reverse)
                cols = _donor_columns(ext.spec, have)
                donor = _stem(folder, have, ext.weights.sha256, key).with_suffix(".f16")
                if cols is not None and donor.exists():
                    mm = np.load(donor, mmap_mode="r")
                    return [mm[offsets[k]:offsets[k + 1], cols] for k in range(len(chains))]
    if not (path.exists() and meta.exists()):
        part = path.with_suffix(f".f16.{os.getpid()}.part")  # two processes may fill the same cache at once
        mm = np.lib.format.open_memmap(part, mode="w+", dtype=np.float16, shape=(total, ext.spec.width))
        chunk = max(512, ext.batch_rows // 300)  # chains per call: about one batch's worth
        # Longest first over the whole set, not per call: chains of like length share a batch, so little of
        # each batch is padding, and only the last batches are narrow.
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, len(chains), chunk):
            picked = order[start:start + chunk]
            feats = ext.features([chains[k] for k in picked], dtype=np.float16)
            for k, f in zip(picked, feats):
                mm[offsets[k]:offsets[k + 1]] = f
            if progress is not None:
                progress(min(start + chunk, len(chains)), len(chains))
        mm.flush()
        del mm
        os.replace(part, path)
        with atomic_output(meta, "w") as fh:
            fh.write(json.dumps({"spec": ext.spec.to_dict(), "sha256": ext.weights.sha256, "chains": len(chains),
                                 "residues": total, "label": label}))
    mm = np.load(path, mmap_mode="r")
    if mm.shape != (total, ext.spec.width):
        raise ValueError(f"{path}: cached features have shape {mm.shape}, expected {(total, ext.spec.width)}")
    return [mm[offsets[k]:offsets[k + 1]] for k in range(len(chains))]
