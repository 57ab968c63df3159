"""Figures of the course notebooks, kept out of the teaching cells.

Each function draws one figure of one chapter from numbers the notebook has
computed, and shows it; it computes nothing the reader needs to see. The
notebooks import this module from docs/course, which is the working directory
when the site build (mkdocs-jupyter) or jupytext executes them, and the
script's directory when one runs ``python docs/course/NN_x.py``.
"""

import matplotlib.pyplot as plt
import numpy as np

from sspred.alphabet import AMINO_ACIDS, N_UNITS, STATES3, STATES8, SYMBOLS

# --- Chapters 1-4 ------------------------------------------------------------

STATE_COLOURS = {"H": "tab:red", "E": "tab:blue", "C": "tab:gray"}


def ch1_composition(comp3: dict, comp8: dict) -> None:
    """Bars of the 3-state fractions of each set/split and the 8-state ones."""
    fig, (ax3, ax8) = plt.subplots(
        1, 2, figsize=(13, 4), gridspec_kw={"width_ratios": [3, 2]})
    x = np.arange(len(comp3))
    for k, s in enumerate("HEC"):
        ax3.bar(x + (k - 1) * 0.27, [v[STATES3.index(s)] for v in comp3.values()],
                0.27, label=s, color=STATE_COLOURS[s])
    ax3.set_xticks(x, list(comp3), fontsize=8)
    ax3.set_ylabel("fraction of scored residues")
    ax3.set_title("3 states: helix, strand, coil")
    ax3.legend()
    x8 = np.arange(len(STATES8))
    for k, (n, v) in enumerate(comp8.items()):
        ax8.bar(x8 + (k - 1) * 0.27, v, 0.27, label=n)
    ax8.set_xticks(x8, list(STATES8))
    ax8.set_title("8 DSSP states")
    ax8.legend()
    plt.tight_layout()
    plt.show()


def ch1_lengths(families: dict) -> None:
    """Histograms (log-spaced bins) of the chain lengths of each family of sets."""
    bins = np.logspace(1, np.log10(2000), 30)  # equal widths on a log scale
    fig, ax = plt.subplots(figsize=(8, 4))
    for name, chains in families.items():
        lengths = np.array([len(c.sequence) for c in chains])
        ax.hist(lengths, bins=bins, weights=np.full(lengths.size, 1 / lengths.size),
                histtype="step", lw=2,
                label=f"{name} ({lengths.size:,d} chains, median {np.median(lengths):.0f})")
    ax.set_xscale("log")
    ax.set_xlabel("chain length (residues, log scale)")
    ax.set_ylabel("fraction of the set's chains")
    ax.set_title("Chain-length distributions")
    ax.legend(fontsize=8, loc="upper right")
    plt.show()


def ch1_window(window_codes: np.ndarray, x: np.ndarray, residue: int, chain_id: str) -> None:
    """One window as its 13 x 21 one-hot matrix, and the same numbers flattened row by row."""
    window = len(window_codes)
    half = window // 2
    grid = x.reshape(window, N_UNITS)  # (273,) -> (13, 21)
    fig = plt.figure(figsize=(12, 6.5))
    ax = fig.add_axes([0.07, 0.32, 0.55, 0.62])
    ax.imshow(grid, cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks(range(N_UNITS), list(AMINO_ACIDS) + ["spacer"], rotation=90)
    labels = [f"{o:+d}  {SYMBOLS[c]}" for o, c in zip(range(-half, half + 1), window_codes)]
    ax.set_yticks(range(window), labels)
    ax.axhline(half - 0.5, color="tab:red", lw=0.8)
    ax.axhline(half + 0.5, color="tab:red", lw=0.8)
    ax.set_ylabel("offset from the centre residue")
    ax.set_title(f"Window of residue {residue} of {chain_id}: {window} positions x 21 symbols")
    ax2 = fig.add_axes([0.66, 0.32, 0.32, 0.62])
    ax2.text(0.0, 0.5, "flatten row by row:\nposition j, symbol s\n-> input 21 j + s",
             fontsize=12, va="center")
    ax2.axis("off")
    ax3 = fig.add_axes([0.07, 0.08, 0.9, 0.1])
    ax3.imshow(x.reshape(1, -1), cmap="Greys", aspect="auto", vmin=0, vmax=1,
               interpolation="nearest")
    for j in range(1, window):
        ax3.axvline(j * N_UNITS - 0.5, color="tab:blue", lw=0.5)
    ax3.set_yticks([])
    ax3.set_xticks(np.arange(window) * N_UNITS + 10, [f"{o:+d}" for o in range(-half, half + 1)])
    ax3.set_xlabel(f"the {window * N_UNITS} inputs (blue lines separate the {window} positions "
                   f"of 21 units)")
    plt.show()


def ch1_flatten_orders(x_rows: np.ndarray, x_cols: np.ndarray, window: int) -> None:
    """The same window flattened position-major (x.flatten()) and symbol-major (x.T.flatten())."""
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(12, 2.6))
    for ax, flat, block, title in (
            (a1, x_rows, N_UNITS, "x.reshape(-1): 13 blocks of 21 symbols (position-major)"),
            (a2, x_cols, window, "x.T.reshape(-1): 21 blocks of 13 positions (symbol-major)")):
        ax.imshow(flat.reshape(1, -1), cmap="Greys", aspect="auto", vmin=0, vmax=1,
                  interpolation="nearest")
        for j in range(1, flat.size // block):
            ax.axvline(j * block - 0.5, color="tab:blue", lw=0.5)
        ax.set_yticks([])
        ax.set_title(title, fontsize=10)
    a2.set_xlabel("index of the flat input vector")
    plt.tight_layout()
    plt.show()


def ch1_memory(kinds: list, memory: tuple, build: tuple, predict: tuple, n: int) -> None:
    """Three bar pairs: memory of the inputs, time to build them, time to predict."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    for ax, values, title in zip(axes, (memory, build, predict),
                                 ["memory of the inputs (MB)", "time to build the inputs (s)",
                                  f"time to predict {n // 1000}k residues (s)"]):
        bars = ax.bar(kinds, values, color=["tab:green", "tab:orange"])
        ax.bar_label(bars, fmt="%.2f")
        ax.set_title(title, fontsize=10)
    plt.suptitle(f"{n:,d} residues of NetSurfP-2.0, window 13", y=1.02)
    plt.tight_layout()
    plt.show()


def ch2_perceptron(curve: list, baseline: float) -> None:
    """Test accuracy per epoch of the perceptron's last and averaged weights."""
    epochs = range(1, len(curve) + 1)
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.plot(epochs, [c[0] for c in curve], "o-", label="perceptron, last weights")
    ax.plot(epochs, [c[1] for c in curve], "o-", label="averaged perceptron")
    ax.axhline(baseline, color="gray", ls="--", label="always 'not helix'")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Perceptron: is the centre residue in a helix?")
    ax.legend()
    plt.show()


def ch2_softmax(z: np.ndarray, p: np.ndarray) -> None:
    """The softmax of three logits as one varies, and the step against the sigmoid."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.5))
    for k, s in enumerate(STATES3):
        a1.plot(z, p[:, k], label=f"p_{s}")
    a1.set_xlabel("z_C  (z_H = 0, z_E = 1 fixed)")
    a1.set_title("softmax: raising one logit takes probability from the others")
    a1.legend()
    a2.plot(z, np.heaviside(z, 0.5), label="perceptron step")
    a2.plot(z, 1 / (1 + np.exp(-z)), label="sigmoid = 2-class softmax")
    a2.set_xlabel("w.x + b")
    a2.set_title("a hard threshold and its smooth version")
    a2.legend()
    plt.tight_layout()
    plt.show()


def ch2_entropy(entropy: np.ndarray, cross: np.ndarray, k: int) -> None:
    """Histograms of the entropies of predicted distributions and of the per-residue losses."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.3))
    a1.hist(entropy, bins=40, color="tab:purple")
    for v, name in ((0, "0: certain"), (np.log(k), f"log {k}: uniform")):
        a1.axvline(v, color="k", ls="--", lw=1)
        a1.text(v, a1.get_ylim()[1] * 0.9, " " + name, fontsize=9)
    a1.set_xlabel("entropy H(p) of a predicted distribution (nats)")
    a1.set_title("between 0 and log K")
    a2.hist(cross, bins=60, color="tab:green")
    a2.axvline(np.log(k), color="k", ls="--", lw=1)
    a2.set_xlabel("cross-entropy -log p_y of a residue (nats)")
    a2.set_title("loss per test residue (dashed: log 3)")
    plt.tight_layout()
    plt.show()


def ch2_weights(W: np.ndarray) -> None:
    """The (13, 21, 3) weights of softmax regression as three offset x amino-acid maps."""
    window = W.shape[0]
    half = window // 2
    lim = np.abs(W).max()
    fig, axes = plt.subplots(1, 3, figsize=(14, 5), sharey=True)
    for k, s in enumerate(STATES3):
        im = axes[k].imshow(W[:, :, k].T, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        axes[k].set_title(f"weights for state {s}")
        axes[k].set_xticks(range(window), [f"{o:+d}" for o in range(-half, half + 1)],
                           fontsize=7)
        axes[k].set_xlabel("window offset")
    axes[0].set_yticks(range(N_UNITS), list(AMINO_ACIDS) + ["spacer"])
    fig.colorbar(im, ax=axes, shrink=0.8, label="weight (red: votes for the state)")
    plt.show()


def ch2_curves(histories: dict, title: str) -> None:
    """Loss and Q3 per epoch, train and validation, of one or more runs' histories."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.5))
    several = len(histories) > 1
    for name, history in histories.items():
        epochs = [h["epoch"] for h in history]
        tag = f"{name}, " if several else ""
        for split, style in (("train", "o-"), ("valid", "s--")):
            a1.plot(epochs, [h[f"{split}_loss"] for h in history], style, label=tag + split)
            a2.plot(epochs, [h[f"{split}_accuracy"] for h in history], style, label=tag + split)
    a1.set_ylabel("cross-entropy")
    a2.set_ylabel("Q3 (%)")
    for a in (a1, a2):
        a.set_xlabel("epoch")
        a.legend(fontsize=8)
    plt.suptitle(title)
    plt.tight_layout()
    plt.show()


def ch2_confusions(matrices: dict, accuracy) -> None:
    """Confusion matrices side by side, counts and row percentages; ``accuracy(cm)`` titles each."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(5 * len(matrices), 4))
    for ax, (title, cm) in zip(np.atleast_1d(axes), matrices.items()):
        rows = cm / cm.sum(axis=1, keepdims=True)
        ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
        for i in range(3):
            for j in range(3):
                ax.text(j, i, f"{cm[i, j]}\n{100 * rows[i, j]:.0f}%", ha="center",
                        va="center", color="white" if rows[i, j] > 0.5 else "black")
        ax.set_xticks(range(3), list(STATES3))
        ax.set_yticks(range(3), list(STATES3))
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{title}: Q3 {accuracy(cm):.1f}%")
    plt.tight_layout()
    plt.show()


def ch3_optimizers(runs: dict, epochs: int) -> None:
    """Per-minibatch training loss (running mean) and per-epoch validation loss of each optimizer."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4))
    per_epoch = len(next(iter(runs.values()))[0]) // epochs
    for label, (steps, valid) in runs.items():
        smooth = np.convolve(steps, np.ones(25) / 25, mode="valid")  # mean of 25 minibatches
        a1.plot(np.arange(smooth.size) / per_epoch, smooth, label=label)
        a2.plot(range(1, epochs + 1), valid, "o-", label=label)
    a1.set_xlabel("epoch")
    a1.set_ylabel("training loss (running mean of 25 minibatches)")
    a2.set_xlabel("epoch")
    a2.set_ylabel("validation loss")
    a1.legend()
    a2.legend()
    plt.suptitle("Same network, same initial weights, same minibatches: three optimizers")
    plt.tight_layout()
    plt.show()


def ch4_curve(curves: dict) -> None:
    """Training and validation loss per epoch of the torch loop."""
    epochs = range(1, len(curves["train"]) + 1)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.plot(epochs, curves["train"], "o-", label="train (mean over the epoch's minibatches)")
    ax.plot(epochs, curves["valid"], "o-", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_title("The 1988 network in PyTorch (Adam, batches of 64)")
    ax.legend()
    plt.show()


def ch4_engines(histories: dict) -> None:
    """Validation loss per epoch of the same TrainConfig under each engine."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for (engine, history), style in zip(histories.items(), ("o-", "x--")):
        ax.plot([h["epoch"] for h in history], [h["valid_loss"] for h in history], style,
                label=f"{engine} engine")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation loss")
    ax.set_title("sspred.train, one TrainConfig, two engines")
    ax.legend()
    plt.show()


# --- End of chapters 1-4 -----------------------------------------------------
