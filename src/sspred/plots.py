"""Pictures for users: a prediction along the sequence, learning curves, confusion and calibration.

Each function takes plain data (arrays, dicts from a model header or an
evaluate report) and returns a matplotlib ``Figure``; ``save`` writes it.
matplotlib is imported only inside these functions (an optional extra:
``pip install 'sspred[plot]'``), and only its object-oriented API is used, so
no global pyplot state or display backend is involved.
"""

from __future__ import annotations

import os

import numpy as np

from sspred.alphabet import MASKED
from sspred.errors import MissingExtra
from sspred.extras import require

#: Colour of each state letter. Helix family in reds, strand family in blues, coil family in
#: greys and greens, so the 8-state picture reads like the 3-state one at a glance.
STATE_COLOURS = {
    "H": "#d62728", "G": "#ff9896", "I": "#9467bd",
    "E": "#1f77b4", "B": "#17becf",
    "T": "#2ca02c", "S": "#bcbd22", "C": "#7f7f7f",
}
#: Colour of a residue whose true state is unknown (unobserved or outside the scored segment).
UNOBSERVED_COLOUR = "#ffffff"
#: Long names for legends.
STATE_NAMES = {"H": "α-helix", "G": "3₁₀-helix", "I": "π-helix", "E": "β-strand", "B": "β-bridge",
               "T": "turn", "S": "bend", "C": "coil"}
#: Residues per row of the prediction picture: long chains wrap, so letters stay readable.
RESIDUES_PER_ROW = 100
#: Rows with at most this many residues also print the one-letter sequence.
MAX_LETTERS_PER_ROW = 120
DPI = 120


#: The error of a plot without matplotlib: sspred.MissingExtra (its former name, kept for ``except`` clauses).
PlotUnavailable = MissingExtra


def figure(width: float, height: float):
    """A matplotlib Figure without pyplot (no global state, no display backend), in inches at ``DPI``."""
    Figure = require("matplotlib.figure", "plot", "plotting").Figure
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _rgb(colour: str) -> tuple[float, float, float]:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def save(fig, path: str | os.PathLike) -> None:
    """Write a figure; the format follows the file's extension (.png, .svg, .pdf)."""
    from sspred.io.textfile import atomic_output

    suffix = os.path.splitext(str(path))[1].lstrip(".").lower() or "png"
    with atomic_output(path, "wb") as handle:
        fig.savefig(handle, format=suffix)


def _strip_image(indices: np.ndarray, states: str) -> np.ndarray:
    """(L,) state indices (MASKED allowed) -> (1, L, 3) RGB row."""
    table = np.array([_rgb(STATE_COLOURS.get(s, "#000000")) for s in states] + [_rgb(UNOBSERVED_COLOUR)])
    safe = np.where(indices >= 0, indices, len(states))
    return table[safe][None, :, :]  # (1, L, 3)


def plot_prediction(sequence: str, probs: np.ndarray, states: str, *, truth: np.ndarray | None = None,
                    confidence: np.ndarray | None = None, title: str = "",
                    per_row: int = RESIDUES_PER_ROW):
    """One chain along its sequence: per-state probabilities, predicted (and true) states, confidence.

    ``probs`` (L, K) in the order of ``states``; ``truth`` (L,) state indices with
    MASKED for unknown residues; ``confidence`` (L,) the .horiz digits 0-9.
    Each row of the picture covers ``per_row`` residues, numbered from 1.
    Axes are labelled ``probabilities i``, ``states i`` and ``confidence i`` for row i.
    """
    from matplotlib.patches import Patch

    length, k = probs.shape
    n_rows = max(1, -(-length // per_row))
    strips = ["predicted"] + (["true"] if truth is not None else [])
    heights = [2.0, 0.28 * len(strips) + 0.25, 0.8]
    fig = figure(13.0, 0.9 + n_rows * (sum(heights) + 0.55))
    grid = fig.add_gridspec(3 * n_rows, 1, height_ratios=heights * n_rows)
    pred = probs.argmax(axis=1)
    positions = np.arange(1, length + 1)
    for row in range(n_rows):
        lo, hi = row * per_row, min((row + 1) * per_row, length)
        x = positions[lo:hi]
        xlim = (lo + 0.5, lo + per_row + 0.5)
        ax_p = fig.add_subplot(grid[3 * row])
        ax_p.set_label(f"probabilities {row}")
        for j, s in enumerate(states):
            ax_p.plot(x, probs[lo:hi, j], color=STATE_COLOURS.get(s, "k"), lw=1.4, label=f"P({s})")
        ax_p.set_xlim(*xlim)
        ax_p.set_ylim(-0.02, 1.02)
        ax_p.set_ylabel("probability")
        ax_p.tick_params(labelbottom=False)
        ax_p.grid(alpha=0.3)
        ax_s = fig.add_subplot(grid[3 * row + 1], sharex=ax_p)
        ax_s.set_label(f"states {row}")
        rows = [_strip_image(pred[lo:hi], states)]
        if truth is not None:
            rows.append(_strip_image(truth[lo:hi], states))
        ax_s.imshow(np.concatenate(rows, axis=0), aspect="auto", interpolation="nearest",
                    extent=(lo + 0.5, hi + 0.5, len(rows) - 0.5, -0.5))
        ax_s.set_yticks(range(len(rows)), strips)
        ax_s.set_xlim(*xlim)
        ax_s.tick_params(labelbottom=False, length=0)
        if hi - lo <= MAX_LETTERS_PER_ROW and per_row <= MAX_LETTERS_PER_ROW:
            for i, aa in zip(x, sequence[lo:hi]):
                ax_s.text(i, -0.75, aa, ha="center", va="bottom", fontsize=6, family="monospace",
                          transform=ax_s.transData, clip_on=False)
        ax_c = fig.add_subplot(grid[3 * row + 2], sharex=ax_p)
        ax_c.set_label(f"confidence {row}")
        if confidence is not None:
            ax_c.bar(x, confidence[lo:hi], width=1.0, color="#555555")
        ax_c.set_ylim(0, 9.5)
        ax_c.set_yticks([0, 5, 9])
        ax_c.set_ylabel("conf.\n(0-9)")
        ax_c.set_xlim(*xlim)
        ax_c.set_xticks(np.arange(10 * (lo // 10 + 1), lo + per_row + 1, 10))
        ax_c.set_xlabel("residue number")
    handles = [Patch(color=STATE_COLOURS.get(s, "k"), label=f"{s} {STATE_NAMES.get(s, '')}") for s in states]
    if truth is not None and (truth == MASKED).any():
        handles.append(Patch(facecolor=UNOBSERVED_COLOUR, edgecolor="#999999", label="true state unknown"))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 9), fontsize=8,
               title="state colours (lines: probability of each state; strips: predicted/true state; "
                     "bars: .horiz confidence digit)", title_fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_history(histories: list[tuple[str, dict]], accuracy_name: str = "Q3"):
    """Learning curves: loss and accuracy per epoch for training and validation, one colour per model.

    ``histories`` is a list of (label, history) where history is a model header's
    ``train.history``: {"epochs": [{"epoch", "train_loss", "train_accuracy", "valid_loss", "valid_accuracy"}, ...],
    "best_epoch": n} (files written before 0.2 name the accuracies ``train_q3`` and ``valid_q3``). Axes are
    labelled ``loss`` and ``accuracy``.
    """
    fig = figure(11.0, 4.2)
    ax_l, ax_a = fig.subplots(1, 2)
    ax_l.set_label("loss")
    ax_a.set_label("accuracy")
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    for i, (label, hist) in enumerate(histories):
        colour = colours[i % len(colours)]
        epochs = hist.get("epochs", [])
        x = [e["epoch"] for e in epochs]
        # The accuracy's key is "accuracy", or "q3" in files written before 0.2: each epoch names one.
        acc = ["accuracy" if "train_accuracy" in e else "q3" for e in epochs]
        for ax, keys in ((ax_l, ["loss"] * len(epochs)), (ax_a, acc)):
            ax.plot(x, [e[f"train_{k}"] for e, k in zip(epochs, keys)], color=colour, marker="o", ms=3,
                    label=f"{label} training")
            if any(f"valid_{k}" in e for e, k in zip(epochs, keys)):
                ax.plot(x, [e.get(f"valid_{k}", np.nan) for e, k in zip(epochs, keys)], color=colour, ls="--",
                        marker="s", ms=3, label=f"{label} validation")
        best = hist.get("best_epoch")
        if best:
            for ax in (ax_l, ax_a):
                ax.axvline(best, color=colour, ls=":", lw=1, label=f"{label} kept weights (epoch {best})")
    ax_l.set_xlabel("epoch")
    ax_l.set_ylabel("cross-entropy loss (nats per residue)")
    ax_l.set_title("Loss")
    ax_a.set_xlabel("epoch")
    ax_a.set_ylabel(f"{accuracy_name} (% of residues correct)")
    ax_a.set_title(f"Accuracy ({accuracy_name})")
    for ax in (ax_l, ax_a):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax_a.legend(fontsize=7, loc="best")
    return fig


def plot_confusion(cm: np.ndarray, states: str, title: str = ""):
    """Confusion-matrix heatmap: cells coloured by the fraction of each true state, annotated with counts."""
    cm = np.asarray(cm)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = cm / cm.sum(axis=1, keepdims=True)  # (K, K) row-normalised: recall on the diagonal
    size = 1.0 + 0.75 * len(states)
    fig = figure(size + 1.6, size)
    ax = fig.add_subplot()
    ax.set_label("confusion")
    im = ax.imshow(np.nan_to_num(frac), cmap="Blues", vmin=0, vmax=1)
    for i in range(len(states)):
        for j in range(len(states)):
            ax.text(j, i, f"{cm[i, j]:,}\n{100 * np.nan_to_num(frac[i, j]):.1f}%", ha="center", va="center",
                    fontsize=8 if len(states) <= 3 else 6, color="white" if frac[i, j] > 0.55 else "black")
    ax.set_xticks(range(len(states)), list(states))
    ax.set_yticks(range(len(states)), list(states))
    ax.set_xlabel("predicted state")
    ax.set_ylabel("true state (DSSP)")
    fig.colorbar(im, ax=ax, label="fraction of the true state's residues")
    ax.set_title(title or "Confusion matrix (counts and row %)", fontsize=9)
    return fig


def plot_calibration(calibration: dict, title: str = ""):
    """Reliability diagram with residue counts, and accuracy at each .horiz confidence digit.

    ``calibration`` is an evaluate report's ``calibration`` entry: bins (edges, count,
    confidence, accuracy as fractions), ece, and confidence_digit (count, accuracy in %).
    """
    fig = figure(11.0, 4.4)
    ax_r, ax_d = fig.subplots(1, 2)
    ax_r.set_label("reliability")
    ax_d.set_label("confidence digit")
    bins = calibration["bins"]
    edges = np.asarray(bins["edges"], dtype=float)
    conf = np.array([np.nan if v is None else v for v in bins["confidence"]], dtype=float)
    acc = np.array([np.nan if v is None else v for v in bins["accuracy"]], dtype=float)
    count = np.asarray(bins["count"], dtype=float)
    centres = (edges[:-1] + edges[1:]) / 2
    ax_r.bar(centres, np.nan_to_num(acc), width=np.diff(edges), color="#1f77b4", alpha=0.35, edgecolor="#1f77b4",
             label="accuracy in bin")
    used = count > 0
    ax_r.plot(conf[used], acc[used], "o-", color="#1f77b4", label="accuracy vs mean confidence")
    ax_r.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    ax_r.set_xlim(0, 1)
    ax_r.set_ylim(0, 1)
    ax_r.set_xlabel("confidence (top state probability)")
    ax_r.set_ylabel("fraction of residues predicted correctly")
    ece = calibration.get("ece")
    ax_r.set_title(f"Reliability ({calibration.get('state_order', calibration.get('states', ''))}); ECE = {ece:.4f}" if ece is not None else "Reliability")
    twin = ax_r.twinx()
    twin.plot(centres[used], count[used] / count.sum(), color="#ff7f0e", lw=1, marker=".",
              label="share of residues in bin")
    twin.set_ylabel("share of residues in bin", color="#ff7f0e")
    twin.set_ylim(0, 1)
    lines = ax_r.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    ax_r.legend(lines[0] + extra[0], lines[1] + extra[1], fontsize=7, loc="upper left")
    digits = calibration.get("confidence_digit")
    if digits:
        d_acc = np.array([np.nan if v is None else v for v in digits["accuracy"]], dtype=float)
        d_count = np.asarray(digits["count"], dtype=float)
        x = np.arange(d_acc.size)
        ax_d.bar(x, np.nan_to_num(d_acc), color="#2ca02c", alpha=0.7)
        for xi, a, n in zip(x, d_acc, d_count):
            if n:
                ax_d.text(xi, a + 1, f"{int(n):,}", ha="center", va="bottom", fontsize=6, rotation=90)
        ax_d.set_xticks(x)
        ax_d.set_ylim(0, 110)
        ax_d.set_xlabel(".horiz confidence digit (floor(10 × (top − second probability)))")
        ax_d.set_ylabel("% of residues predicted correctly")
        ax_d.set_title("Accuracy by confidence digit (numbers: residues)")
        ax_d.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig
