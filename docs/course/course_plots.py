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


# --- Chapters 5-8 ------------------------------------------------------------

# Figures of chapters 5-8 are drawn 9 inches wide at 100 dpi (900 px, the
# width of the page's text column) with fonts of 11-12 pt, so that they stay
# readable when the page scales them down.
WIDE = 9.0
READABLE = {"font.size": 11, "axes.titlesize": 11, "legend.fontsize": 9,
            "figure.dpi": 100}


def readable(draw):
    """Draw under READABLE's fonts, leaving other chapters' settings alone."""
    def wrapped(*args, **kwargs):
        with plt.rc_context(READABLE):
            return draw(*args, **kwargs)
    wrapped.__doc__ = draw.__doc__
    return wrapped


SS_COLOURS = {"H": "C3", "E": "C0", "C": "0.75", "-": "white"}


@readable
def ch5_alignment(trace, ss, match, names) -> None:
    """Two aligned chains' 3-state labels, one row of coloured cells each.

    ``trace`` (columns, 2) holds each chain's residue index (-1 for a gap),
    ``ss`` the two label strings, ``match`` the columns of identical
    residues and ``names`` the two row labels.
    """
    fig, ax = plt.subplots(figsize=(WIDE, 2.6))
    for row, name in enumerate(names):
        for col, idx in enumerate(trace[:, row]):
            state = ss[row][idx] if idx >= 0 else "-"
            ax.add_patch(plt.Rectangle((col, 1.2 - 1.2 * row), 1, 0.9,
                                       color=SS_COLOURS[state], lw=0))
        ax.text(0, 2.2 - 2.3 * row, name, ha="left",
                va="bottom" if row == 0 else "top")
    ax.plot(np.array(match) + 0.5, np.full(len(match), 1.15), "k|", ms=6)
    ax.set_xlim(-1, len(trace) + 1)
    ax.set_ylim(-0.6, 2.8)
    ax.axis("off")
    ax.set_title("aligned DSSP labels (red H, blue E, grey C); "
                 "ticks: identical residues")
    plt.tight_layout()
    plt.show()


@readable
def ch5_globin(runs: list, networks) -> None:
    """Globin and other-test Q3 of networks trained with/without its family."""
    fig, ax = plt.subplots(figsize=(WIDE * 0.8, 4.2))
    for k, network in enumerate(networks):
        for kind, marker, colour in (("with its family", "o", "C3"),
                                     ("family removed", "s", "C0")):
            shift = 0.15 if kind == "family removed" else -0.15
            x = np.array([2 * k, 2 * k + 0.8]) + shift
            for r in runs:
                if r["network"] != network or r["train"] != kind:
                    continue
                first = (k, r["seed"]) == (0, 0)
                ax.plot(x, [r["globin"], r["others"]], marker + "-",
                        color=colour, alpha=0.7,
                        label=f"trained {kind}" if first else None)
    ax.set_xticks([0, 0.8, 2, 2.8],
                  ["globin\n(1988 net)", "other 16\n(1988 net)",
                   "globin\n(memoriser)", "other 16\n(memoriser)"])
    ax.set_ylabel("test Q3 (%)")
    ax.set_title("the lamprey globin, with and without its family "
                 "(a line per seed)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    plt.tight_layout()
    plt.show()


@readable
def ch5_splits(runs: list, networks, lesson: list, num) -> None:
    """Random against cluster split: live pool (top) and full scale (bottom).

    ``lesson`` is BENCHMARKS.md's globin-lesson table, ``num`` its cell
    parser.
    """
    fig = plt.figure(figsize=(WIDE, 7.6))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.2, 0.8])
    axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]),
            fig.add_subplot(grid[1, :])]
    ax = axes[0]
    for k, network in enumerate(networks):
        for seed in sorted({r["seed"] for r in runs}):
            rows = {r["split"]: r for r in runs
                    if r["network"] == network and r["seed"] == seed}
            ax.plot([2 * k, 2 * k + 1],
                    [rows["random"]["test"], rows["by cluster"]["test"]],
                    "o-", color=f"C{seed}", alpha=0.8,
                    label=f"seed {seed}" if k == 0 else None)
    ax.set_xticks([0, 1, 2, 3], ["random\n1988", "cluster\n1988",
                                 "random\nmem.", "cluster\nmem."])
    ax.set_ylabel("test Q3 (%)")
    ax.set_title("the same pool, split two ways")
    ax.legend(fontsize=8)
    ax = axes[1]
    for k, network in enumerate(networks):
        for r in runs:
            if r["network"] == network and r["split"] == "random":
                ax.plot([2 * k, 2 * k + 1], [r["related"], r["unrelated"]],
                        "o-", color=f"C{r['seed']}", alpha=0.8)
    ax.set_xticks([0, 1, 2, 3], ["relative\n1988", "none\n1988",
                                 "relative\nmem.", "none\nmem."])
    ax.set_title("random split's test chains:\nwith a training relative "
                 "or not")
    ax = axes[2]
    pools = sorted({r["pool"] for r in lesson})
    for k, pool_name in enumerate(pools):
        rows = [r for r in lesson if r["pool"] == pool_name]
        ax.plot([num(r["seed"]) + 0.1 * k for r in rows],
                [num(r["gap"]) for r in rows], "o", ms=8,
                label=f"{pool_name} (300-322 test chains)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks([0, 1, 2])
    ax.set_xlabel("seed")
    ax.set_ylabel("random minus cluster\ntest Q3 (points)")
    ax.set_title("full scale, 1988 network (BENCHMARKS.md)")
    ax.legend(fontsize=9, ncol=2)
    for a in axes:
        a.grid(axis="y", alpha=0.3)
    plt.tight_layout()
    plt.show()


@readable
def ch6_figure8(epochs, train_q3, test_q3, peak, recorded, n_train,
                big) -> None:
    """Qian & Sejnowski's Figure 8: live and recorded (left), netsurfp2."""
    fig, axes = plt.subplots(1, 2, figsize=(WIDE, 4.2), sharey=True)
    ax = axes[0]
    ax.plot(epochs, train_q3, "-", color="C0", label="training (live)")
    ax.plot(epochs, test_q3, "-", color="C1", label="test (live)")
    ax.plot([r["epoch"] for r in recorded], [r["train_q3"] for r in recorded],
            "o", ms=3, color="C0", alpha=0.5, label="training (recorded)")
    ax.plot([r["epoch"] for r in recorded], [r["test_q3"] for r in recorded],
            "s", ms=3, color="C1", alpha=0.5, label="test (recorded)")
    ax.axvline(epochs[peak], color="grey", ls=":", lw=1)
    ax.set_title(f"the paper's {n_train:,} residues")
    ax.set_xlabel("epoch")
    ax.set_ylabel("Q3 (%)")
    ax.legend(fontsize=8)
    ax = axes[1]
    c = big["curve"]
    ax.plot([r["epoch"] for r in c], [r["train_q3"] for r in c], "o-", ms=3,
            label="training")
    ax.plot([r["epoch"] for r in c], [r["test_q3"] for r in c], "s-", ms=3,
            label="test (cluster-disjoint)")
    ax.set_title(f"netsurfp2: {big['train_residues']:,} residues")
    ax.set_xlabel("epoch")
    ax.legend(fontsize=8)
    for a in axes:
        a.grid(alpha=0.3)
    plt.tight_layout()
    plt.show()


@readable
def ch6_polynomials(x, y, grid, truth, fits: dict, sigma) -> None:
    """Polynomial fits of rising degree (top) and resampled fits (bottom).

    ``fits`` maps a degree to (the fit to ``x, y`` on ``grid``, an
    (R, G) array of fits to resampled data sets).
    """
    degrees = list(fits)
    fig, axes = plt.subplots(2, len(degrees), figsize=(WIDE, 5.6),
                             sharex=True, sharey=True)
    for k, d in enumerate(degrees):
        one, many = fits[d]
        ax = axes[0, k]
        ax.plot(grid, truth, "k--", lw=1, label="f(x)")
        ax.plot(x, y, "o", color="C1", ms=4, label="data")
        ax.plot(grid, one, color="C0", label="fit")
        ax.set_title(f"degree {d}")
        ax = axes[1, k]
        ax.plot(grid, many[:20].T, color="C0", alpha=0.25, lw=0.8)
        ax.plot(grid, many.mean(axis=0), color="C3", lw=2,
                label="mean fit")
        ax.plot(grid, truth, "k--", lw=1)
        ax.set_xlabel("x")
    axes[0, 0].legend(fontsize=8, loc="lower left")
    axes[1, 0].legend(fontsize=8, loc="lower left")
    axes[0, 0].set_ylabel("one data set")
    axes[1, 0].set_ylabel("20 resampled sets")
    axes[0, 0].set_ylim(-2.2, 2.2)
    fig.suptitle(f"n = {len(x)} points, noise sd {sigma}: "
                 "high bias (left), high variance (right)")
    plt.tight_layout()
    plt.show()


@readable
def ch6_bias_variance(degrees, bias2, variance, noise, test_err) -> None:
    """Bias², variance and noise against degree, and their sum."""
    fig, ax = plt.subplots(figsize=(WIDE * 0.75, 4))
    ax.plot(degrees, bias2, "o-", label="bias²")
    ax.plot(degrees, variance, "s-", label="variance")
    ax.axhline(noise, color="grey", ls=":", label="noise σ²")
    ax.plot(degrees, test_err, "k^-", label="expected test error")
    ax.set_yscale("log")
    ax.set_xlabel("polynomial degree (capacity)")
    ax.set_ylabel("mean squared error")
    ax.legend()
    ax.grid(alpha=0.3)
    plt.tight_layout()
    plt.show()


@readable
def ch6_capacity(results: dict) -> None:
    """The train-test gap against weights, and learning curves (recorded)."""
    fig, axes = plt.subplots(1, 2, figsize=(WIDE, 4.2))
    for setting, marker in (("uci", "o"), ("netsurfp2", "s")):
        runs = [r for k, r in results[setting].items()
                if "curve" not in k and r.get("fraction", 1.0) == 1.0]
        params = np.array([r["params"] for r in runs])
        gap = np.array([r["train_q3"] - r["test_q3"] for r in runs])
        axes[0].plot(params, gap, marker, alpha=0.8, label=setting)
        lc = sorted((r for k, r in results[setting].items()
                     if " w13 h40 " in k and "curve" not in k
                     and f" e{r['epochs']} " in k),
                    key=lambda r: r["train_residues"])
        colour = {"uci": "C0", "netsurfp2": "C1"}[setting]
        sizes = [r["train_residues"] for r in lc]
        axes[1].plot(sizes, [r["train_q3"] for r in lc], marker + "--",
                     color=colour, label=f"{setting}: train")
        axes[1].plot(sizes, [r["test_q3"] for r in lc], marker + "-",
                     color=colour, label=f"{setting}: test")
    axes[0].set_xscale("log")
    axes[0].axhline(0, color="grey", lw=0.8)
    axes[0].set_xlabel("weights and biases")
    axes[0].set_ylabel("train Q3 - test Q3 (points)")
    axes[0].set_title("the gap grows with capacity")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("training residues (w13, 40 units)")
    axes[1].set_ylabel("Q3 (%)")
    axes[1].set_title("learning curves")
    for a in axes:
        a.legend(fontsize=8)
        a.grid(alpha=0.3)
    plt.tight_layout()
    plt.show()


@readable
def ch6_weights(weights: dict, near: float) -> None:
    """Histograms of first-layer weights, one panel per penalty."""
    fig, axes = plt.subplots(1, len(weights), figsize=(WIDE, 3.6),
                             sharey=True)
    bins = np.linspace(-0.6, 0.6, 61)
    for ax, (label, w) in zip(axes, weights.items()):
        ax.hist(np.clip(w.ravel(), bins[0], bins[-1]), bins=bins,
                color="C0")
        ax.set_yscale("log")
        ax.set_title(f"{label}: {np.mean(np.abs(w) < near):.0%} "
                     f"below {near:g}")
        ax.set_xlabel("first-layer weight")
    axes[0].set_ylabel("count (log)")
    plt.tight_layout()
    plt.show()


@readable
def ch6_ablation(names, train_v, valid_v) -> None:
    """The recorded ablation: train/validation Q3 and the gap, stacked."""
    y = np.arange(len(names))[::-1]
    fig, axes = plt.subplots(2, 1, figsize=(WIDE, 8.4), sharey=True)
    ax = axes[0]
    ax.hlines(y, valid_v, train_v, color="grey", lw=2)
    ax.plot(train_v, y, "o", color="C0", label="training chains")
    ax.plot(valid_v, y, "s", color="C1", label="validation chains")
    ax.axvline(valid_v[0], color="C1", ls=":", lw=1,
               label="validation, no regularisation")
    ax.set_yticks(y, names)
    ax.set_xlabel("Q3 (%)")
    ax.set_title("train and validation Q3 (the grey bar is the gap)")
    ax.legend(fontsize=9, loc="lower right")
    ax = axes[1]
    gap = train_v - valid_v
    ax.barh(y, gap, color=["C7"] + ["C2"] * (len(y) - 1))
    for yy, g, v in zip(y, gap, valid_v):
        ax.text(g + 0.05, yy, f"gap {g:.1f}, valid {v:.2f}", va="center",
                fontsize=9)
    ax.set_xlabel("train Q3 - validation Q3 (points)")
    ax.set_xlim(0, gap.max() * 1.5)
    ax.set_title("the gap (BENCHMARKS.md: window 17, 100+50 ReLU, "
                 "1,500 chains)")
    plt.tight_layout()
    plt.show()


@readable
def ch6_curves(live: dict) -> None:
    """Training and test Q3 per epoch, one line per configuration."""
    fig, axes = plt.subplots(1, 2, figsize=(WIDE, 4), sharex=True)
    for k, (label, h) in enumerate(live.items()):
        ep = [x["epoch"] for x in h]
        axes[0].plot(ep, [x["train_accuracy"] for x in h], color=f"C{k}",
                     label=label)
        axes[1].plot(ep, [x["valid_accuracy"] for x in h], color=f"C{k}",
                     label=label)
    axes[0].set_title("training proteins (running)")
    axes[1].set_title("test proteins")
    for a in axes:
        a.set_xlabel("epoch")
        a.set_ylabel("Q3 (%)")
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    plt.tight_layout()
    plt.show()


@readable
def ch7_reach(reach: list, convs: list, window: int) -> None:
    """Which input offsets reach the centre output, layer by layer."""
    fig, ax = plt.subplots(figsize=(WIDE, 3.8))
    names = ["residues (input)"] + [
        f"conv {i + 1} (k {s['kernel']}, d {s.get('dilation', 1)})"
        for i, s in enumerate(convs)]
    for level, offsets in enumerate(reach):
        ax.plot(offsets, np.full(offsets.size, level), "|", ms=9,
                color="C0" if level else "C3")
        ax.text(offsets.max() + 3, level,
                f"{offsets.max() - offsets.min() + 1} wide", va="center",
                fontsize=9)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("offset from the predicted residue")
    ax.set_title(f"what one output sees: {window} residues")
    ax.set_xlim(-80, 95)
    ax.grid(axis="x", alpha=0.3)
    plt.tight_layout()
    plt.show()


@readable
def ch7_leaderboard(steps, short, number, anchors, clean) -> None:
    """The leaderboard's validation and test Q3, model by model."""
    fig, ax = plt.subplots(figsize=(WIDE, 5.2))
    x = np.arange(len(steps))
    for col, marker in (("validation", "o"), ("NEW364", "s"),
                        ("CB513", "^"), ("TS115", "D")):
        ax.plot(x, [number(r[col]) for r in steps], marker + "-", ms=5,
                label=col, alpha=0.85)
    for name, q3 in anchors.items():
        ax.axhline(q3, color="grey", ls=":", lw=0.8)
        ax.text(-0.3, q3, f"{clean(name)}: {q3:g}", fontsize=8,
                va="bottom", ha="left", color="grey")
    ax.set_xticks(x, short[:len(steps)], rotation=30, ha="right")
    ax.set_ylabel("Q3 (%)")
    ax.set_title("the leaderboard, in the order the models were built")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    plt.tight_layout()
    plt.show()


@readable
def ch7_sweep(rf, val, params, channels, rng) -> None:
    """The conv sweep: validation Q3 against receptive field."""
    fig, ax = plt.subplots(figsize=(WIDE * 0.75, 4.4))
    for c, colour in zip(sorted(set(channels)), ("C0", "C1", "C2", "C3")):
        pick = channels == c
        jitter = rng.normal(0, 2.5, pick.sum())  # runs overlap
        ax.scatter(rf[pick] + jitter, val[pick], s=params[pick] / 4000,
                   color=colour, alpha=0.7, label=f"{c} channels")
    ax.set_xticks([45, 76, 139, 267], ["45", "75-77", "139", "267"])
    ax.set_xlabel("receptive field (residues)")
    ax.set_ylabel("validation Q3 (%)")
    ax.set_title(f"the conv sweep: {len(rf)} runs "
                 "(marker area ~ parameters)")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    plt.tight_layout()
    plt.show()


@readable
def ch7_chain(pos, probs, state_order, true_letters, predicted, title):
    """Probabilities along one chain over its true and predicted states."""
    colour = {"H": "C3", "E": "C0", "C": "0.6"}
    fig, (ax, band) = plt.subplots(
        2, 1, figsize=(WIDE, 4.4), sharex=True,
        gridspec_kw={"height_ratios": [3, 1]})
    for j, state in enumerate(state_order):
        ax.plot(pos, probs[:, j], color=colour[state], lw=1.6,
                label=f"P({state})")
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=9, ncol=3, loc="upper right")
    ax.set_title(title)
    for row, letters in enumerate((true_letters, predicted)):
        for i, s in enumerate(letters):
            if s in colour:
                band.add_patch(plt.Rectangle((i + 0.5, 1 - row - 0.4), 1,
                                             0.8, color=colour[s], lw=0))
    band.set_yticks([1, 0], ["DSSP", "predicted"])
    band.set_ylim(-0.6, 1.6)
    band.set_xlabel("residue")
    plt.tight_layout()
    plt.show()

@readable
def ch8_recall(snapshots, energies, overlaps, names, side) -> None:
    """Recall of a letter: the states (top), energy and overlaps (bottom)."""
    fig = plt.figure(figsize=(WIDE, 6.4))
    grid = fig.add_gridspec(2, max(len(snapshots), 2),
                            height_ratios=[1, 1.6])
    titles = ["cue (25 %)"] + [f"sweep {k}"
                               for k in range(1, len(snapshots))]
    for k, (snap, title) in enumerate(zip(snapshots, titles)):
        ax = fig.add_subplot(grid[0, k])
        ax.imshow(snap.reshape(side, side), cmap="gray_r", vmin=-1, vmax=1)
        ax.set_title(title)
        ax.axis("off")
    half = max(len(snapshots), 2) // 2
    ax = fig.add_subplot(grid[1, :half])
    ax.plot(energies, color="k")
    ax.set_xlabel("single-unit updates")
    ax.set_ylabel("energy $E = -\\frac{1}{2} s^T W s$")
    ax.set_title("energy only goes down")
    ax = fig.add_subplot(grid[1, half:])
    for p, name in enumerate(names):
        ax.plot(overlaps[:, p], label=name)
    ax.set_xlabel("single-unit updates")
    ax.set_ylabel("overlap m with each letter")
    ax.legend(ncol=2)
    ax.set_title("the cue slides into E")
    plt.tight_layout()
    plt.show()


@readable
def ch8_capacity(panels, alpha_c) -> None:
    """Recall against load, one panel per (result dict, N, breakdown)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(WIDE, 4.2),
                             sharey=True)
    for ax, (res, n, brk, note) in zip(axes, panels):
        ax.plot(res["loads"], res["retrieved_clean"], "o-",
                label="recalled, cue = pattern")
        ax.plot(res["loads"], res["retrieved_cued"], "s-",
                label="recalled, 10 % flipped")
        ax.plot(res["loads"], res["perfect_clean"], "^--", color="grey",
                label="exact fixed point")
        ax.axvline(alpha_c, color="k", ls=":",
                   label=f"theory: $\\alpha_c$ = {alpha_c}")
        ax.axvline(brk, color="C3", ls="--", label=f"half at {brk:.3f}")
        ax.set_xlabel("load $\\alpha = P/N$")
        ax.set_title(f"N = {n} ({note})")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("fraction of stored patterns")
    plt.tight_layout()
    plt.show()


@readable
def ch8_beta(bres, n_patterns) -> None:
    """One-update retrieval error against beta, and against beta * Delta."""
    fig, axes = plt.subplots(1, 2, figsize=(WIDE, 4.2), sharey=True)
    for r, rho in enumerate(bres.correlations):
        label = f"cosine {rho:.2f}: $\\Delta$ = {bres.separations[r]:.1f}"
        axes[0].plot(bres.betas, bres.errors[r], "o-", ms=3, label=label)
        axes[1].plot(bres.betas * bres.separations[r], bres.errors[r],
                     "o-", ms=3, label=label)
    axes[0].set_xlabel("inverse temperature $\\beta$")
    axes[1].set_xlabel("$\\beta \\cdot \\Delta$")
    axes[1].axvline(np.log(n_patterns), color="k", ls=":",
                    label=f"$\\beta\\Delta = \\log N$ = "
                          f"{np.log(n_patterns):.1f}")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(1e-16, 3)  # below 1e-16 the error is round-off
        ax.legend(fontsize=8)
    axes[0].set_ylabel("relative retrieval error")
    fig.suptitle(f"one update, N = {n_patterns} patterns in d = 64")
    plt.tight_layout()
    plt.show()


@readable
def ch8_one_step(one, alpha_c) -> None:
    """Exact one-step retrieval against the number of stored patterns."""
    fig, ax = plt.subplots(figsize=(WIDE * 0.8, 4.4))
    for f, flip in enumerate(one.flips):
        ax.plot(one.counts, one.modern[f], "o-", color=f"C{f}",
                label=f"modern, one update, {flip:.0%} flipped")
        ax.plot(one.counts, one.classical[f], "x--", color=f"C{f}",
                label=f"classical, one sync step, {flip:.0%} flipped")
    ax.axvline(64, color="k", ls=":", label="d = 64")
    ax.axvline(alpha_c * 64, color="grey", ls=":",
               label="classical capacity 0.138 d")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("stored patterns N")
    ax.set_ylabel("fraction of cues retrieved exactly")
    ax.legend(fontsize=8)
    plt.tight_layout()
    plt.show()

# --- End of chapters 5-8 -----------------------------------------------------
