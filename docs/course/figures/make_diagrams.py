"""The course's diagrams, drawn with matplotlib: ``python docs/course/figures/make_diagrams.py``.

Writes, beside this file, one SVG per diagram (the chapters show them as images):
- ``network_1988.svg`` (chapter 2): Qian & Sejnowski's network, a window of 13 residues one-hot coded over
  21 symbols, 40 sigmoid hidden units, a softmax over C, H, E;
- ``backprop_graph.svg`` (chapter 3): the computation graph of chapter 3's forward pass, with the gradient
  each backward step sends, in chapter 3's names (X, W1, A, H, Z, P, L; a bar for a gradient);
- ``dropout.svg`` (chapter 6): one training step's sub-network under dropout, dropped units crossed out,
  beside the whole network used for prediction;
- ``chain_dssp.svg`` (chapter 1): a real chain of CB513 (read from ``$SSPRED_DATA`` by ``sspred.load_data``),
  each residue coloured by its DSSP state, with the 8 and 3 states written along the sequence.

The output is byte for byte the same at every run with the same matplotlib (tests/test_course_diagrams.py
checks the committed files against a fresh run): no date in the files, a fixed SVG id salt, text as paths.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402

#: Where the diagrams go: beside this script, so a chapter links ``figures/NAME.svg``.
HERE = Path(__file__).resolve().parent
#: The matplotlib release the committed files were drawn with; another release may place a glyph differently.
MADE_WITH = "3.11.2"
#: The CB513 chain drawn in chain_dssp.svg: 56 residues, all scored, with strands, a helix, turns and bends.
CHAIN_ID = "cb513-260"
#: The window shown in network_1988.svg: 13 residues of that chain, centred on the residue predicted.
WINDOW_START = 18
#: Colours of the DSSP states: helices warm, strands blue, the rest (turn, bend, coil) light.
STATE_COLOURS = {"H": "#d62728", "G": "#ff9896", "I": "#e377c2", "E": "#1f77b4", "B": "#9ecae1",
                 "T": "#bcbd22", "S": "#dbdb8d", "C": "#e0e0e0"}
STATE_NAMES = {"H": "α-helix", "G": "3₁₀-helix", "I": "π-helix", "E": "strand", "B": "bridge",
               "T": "turn", "S": "bend", "C": "coil"}
THREE_COLOURS = {"H": "#d62728", "E": "#1f77b4", "C": "#e0e0e0"}
SAVE = {"format": "svg", "metadata": {"Date": None, "Creator": None}}


def setup() -> None:
    """The settings that make a run reproducible and the text readable."""
    plt.rcParams.update({"svg.hashsalt": "sspred-course", "svg.fonttype": "path", "font.size": 13,
                         "font.family": "DejaVu Sans"})


def blank(width: float, height: float):
    """A figure of ``width`` x ``height`` inches with one axis in data units = inches, no frame."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    return fig, ax


def arrow(ax, start, end, colour="black", **kw) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color=colour, lw=1.4,
                                 shrinkA=0, shrinkB=0, **kw))


def network_1988(sequence: str) -> plt.Figure:
    """The 1988 network on a 13-residue window of ``sequence`` (its one-hot rows drawn), 40 hidden, 3 out."""
    from sspred.alphabet import N_UNITS, SYMBOLS

    window = sequence[WINDOW_START:WINDOW_START + 13]
    fig, ax = blank(13, 7.2)
    cell = 0.2
    x0, y_top = 1.0, 6.3
    symbols = SYMBOLS[:N_UNITS]  # the 21 input units of one position: 20 amino acids and the spacer
    hidden_x, out_x = 8.6, 11.4
    hidden_y = [6.45 - i * 0.125 for i in range(40)]
    out_y = [4.5, 3.6, 2.7]
    # Connections first, so units are drawn over them: every position block to every hidden unit.
    for j in range(13):
        y = y_top - j * 0.42 - cell / 2
        for hy in hidden_y:
            ax.plot([x0 + N_UNITS * cell, hidden_x - 0.07], [y, hy], color="#7f7f7f", lw=0.25, alpha=0.35)
    for hy in hidden_y:
        for oy in out_y:
            ax.plot([hidden_x + 0.07, out_x - 0.25], [hy, oy], color="#7f7f7f", lw=0.3, alpha=0.45)
    for j, residue in enumerate(window):
        y = y_top - j * 0.42 - cell
        centre = j == 6
        ax.text(x0 - 0.55, y + cell / 2, residue, ha="center", va="center", fontsize=15,
                fontweight="bold" if centre else "normal", color="#d62728" if centre else "black")
        ax.text(x0 - 0.2, y + cell / 2, f"{j - 6:+d}" if j != 6 else "0", ha="right", va="center",
                fontsize=9, color="#555555")
        for s, symbol in enumerate(symbols):
            on = symbol == residue
            ax.add_patch(Rectangle((x0 + s * cell, y), cell, cell, facecolor="black" if on else "white",
                                   edgecolor="#999999", lw=0.5))
    for s, symbol in enumerate(symbols):
        ax.text(x0 + (s + 0.5) * cell, y_top + 0.12, symbol, ha="center", va="bottom", fontsize=8)
    ax.add_patch(Rectangle((x0 - 0.02, y_top - 6 * 0.42 - cell - 0.02), 21 * cell + 0.04, cell + 0.04,
                           fill=False, edgecolor="#d62728", lw=1.6))
    ax.text(x0 + 10.5 * cell, 0.55, "input: a window of 13 residues, each one-hot over 21 symbols\n"
            "(20 amino acids and the spacer off a chain end): 13 × 21 = 273 numbers", ha="center", fontsize=12)
    for hy in hidden_y:
        ax.add_patch(plt.Circle((hidden_x, hy), 0.055, facecolor="#ffdd99", edgecolor="black", lw=0.6))
    ax.text(hidden_x, 0.55, "hidden: 40 units\nh = σ(x W₁ + b₁)", ha="center", fontsize=12)
    for oy, state in zip(out_y, "CHE"):
        ax.add_patch(plt.Circle((out_x, oy), 0.25, facecolor=THREE_COLOURS[state], edgecolor="black", lw=1))
        ax.text(out_x, oy, state, ha="center", va="center", fontsize=14, fontweight="bold")
    ax.text(out_x + 0.4, 3.6, "P(C), P(H), P(E)\nsum to 1", ha="left", va="center", fontsize=11)
    ax.text(out_x, 0.55, "output: softmax over 3\np = softmax(h W₂ + b₂)", ha="center", fontsize=12)
    ax.text((x0 + N_UNITS * cell + hidden_x) / 2, 6.85, "W₁: 273 × 40", ha="center", fontsize=12)
    ax.text((hidden_x + out_x) / 2, 6.85, "W₂: 40 × 3", ha="center", fontsize=12)
    ax.text(x0 - 0.7, 6.95, "the state of the centre residue (red) is predicted from its window",
            fontsize=11, color="#d62728")
    return fig


def box(ax, xy, text, colour="#eef2ff", width=1.2, height=0.7, fontsize=15) -> None:
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                                facecolor=colour, edgecolor="black", lw=1.1))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def backprop_graph() -> plt.Figure:
    """Chapter 3's forward pass as a graph (black), and what each backward step returns (red)."""
    fig, ax = blank(12.8, 5.6)
    y = 3.3
    # Values (boxes), parameters and labels (cream boxes) and operations (dashed) along the forward pass.
    values = {"X": (0.6, y), "A": (4.1, y), "H": (6.5, y), "Z": (9.2, y), "L": (12.2, y)}
    shapes = {"X": "B × 273", "A": "B × 40", "H": "B × 40", "Z": "B × 3", "L": "scalar"}
    params = {"W1": (1.8, 4.7), "b1": (3.0, 4.7), "W2": (7.3, 4.7), "b2": (8.5, 4.7), "Y": (10.7, 4.7)}
    labels = {"X": "$X$", "A": "$A$", "H": "$H$", "Z": "$Z$", "L": "$L$", "W1": "$W_1$", "b1": "$b_1$",
              "W2": "$W_2$", "b2": "$b_2$", "Y": "$Y$"}
    ops = {"lin1": (2.4, y, "$XW_1+b_1$", 1.2), "sig": (5.3, y, "$\\sigma$", 0.5),
           "lin2": (7.9, y, "$HW_2+b_2$", 1.2), "loss": (10.7, y, "softmax,\ncross-entropy", 1.45)}
    for name, xy in values.items():
        box(ax, xy, labels[name], width=0.7)
        ax.text(xy[0], xy[1] - 0.6, shapes[name], ha="center", fontsize=11, color="#555555")
    for name, xy in params.items():
        box(ax, xy, labels[name], colour="#fff4dd", width=0.7, height=0.55, fontsize=14)
    for x, yy, text, width in ops.values():
        ax.add_patch(FancyBboxPatch((x - width / 2, yy - 0.33), width, 0.66, boxstyle="round4,pad=0.05",
                                    facecolor="white", edgecolor="#555555", lw=1, linestyle="--"))
        ax.text(x, yy, text, ha="center", va="center", fontsize=12 if "\n" in text else 14)
    where = {**values, **{k: (v[0], v[1]) for k, v in ops.items()}}
    half = {**{k: 0.4 for k in values}, **{k: v[3] / 2 + 0.06 for k, v in ops.items()}}
    for a, b in [("X", "lin1"), ("lin1", "A"), ("A", "sig"), ("sig", "H"), ("H", "lin2"), ("lin2", "Z"),
                 ("Z", "loss"), ("loss", "L")]:
        (xa, ya), (xb, yb) = where[a], where[b]
        arrow(ax, (xa + half[a], ya), (xb - half[b], yb))
    for p, op in [("W1", "lin1"), ("b1", "lin1"), ("W2", "lin2"), ("b2", "lin2"), ("Y", "loss")]:
        (xa, ya), (xb, yb) = params[p], where[op]
        arrow(ax, (xa, ya - 0.33), (xb + (xa - xb) * 0.3, yb + 0.4))
    # The backward pass: red arcs under the forward arrows, each labelled with the gradient it carries.
    red = "#c0392b"
    back = [("L", "Z", "$\\bar Z = \\frac{1}{B}(P - Y)$"),
            ("Z", "H", "$\\bar H = \\bar Z\\, W_2^\\top$"),
            ("H", "A", "$\\bar A = \\bar H \\odot H \\odot (1 - H)$"),
            ("A", "X", "$\\bar X = \\bar A\\, W_1^\\top$ (not needed)")]
    for a, b, text in back:
        (xa, _), (xb, _) = values[a], values[b]
        arrow(ax, (xa - 0.15, y - 0.85), (xb + 0.15, y - 0.85), colour=red, connectionstyle="arc3,rad=-0.2")
        ax.text((xa + xb) / 2, 1.75, text, ha="center", va="center", fontsize=14, color=red)
    grads = [("W1", "$\\bar W_1 = X^\\top \\bar A$"), ("b1", "$\\bar b_1 = \\sum_n \\bar A_{n,:}$"),
             ("W2", "$\\bar W_2 = H^\\top \\bar Z$"), ("b2", "$\\bar b_2 = \\sum_n \\bar Z_{n,:}$")]
    for p, text in grads:
        x, yy = params[p]
        ax.text(x, yy + 0.42, text, ha="center", va="bottom", fontsize=13, color=red)
    ax.text(0.25, 0.75, "black: the forward pass (3.1), each value with its shape", fontsize=12,
            color="#333333")
    ax.text(0.25, 0.35, "red: the backward pass (3.3), each arrow carrying the gradient of L with respect "
            "to the value it points to", fontsize=12, color=red)
    return fig


def dropout() -> plt.Figure:
    """A small network in training under dropout (dropped hidden units crossed out) and at prediction."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.6))
    dropped = {1, 4, 6}  # one draw of the mask: units 1, 4, 6 of 8 are zeroed in this step
    layers = [7, 8, 3]
    xs = [0.0, 1.0, 2.0]
    for ax, training in zip(axes, (True, False)):
        ax.set_xlim(-0.3, 2.3)
        ax.set_ylim(-0.9, 8.2)
        ax.set_axis_off()
        ys = [[(8 - n) / 2 + i for i in range(n)] for n in layers]
        for layer in range(2):
            for i, ya in enumerate(ys[layer]):
                for j, yb in enumerate(ys[layer + 1]):
                    hidden = i if layer == 1 else j
                    off = training and hidden in dropped
                    ax.plot([xs[layer], xs[layer + 1]], [ya, yb], color="#cccccc" if off else "#555555",
                            lw=0.6 if off else 1.0, linestyle=":" if off else "-", zorder=1)
        for layer, column in enumerate(ys):
            for i, yy in enumerate(column):
                off = training and layer == 1 and i in dropped
                face = {0: "#dddddd", 1: "#ffdd99", 2: "#9ecae1"}[layer]
                # Markers, unlike patches, stay round whatever the axes' aspect.
                ax.scatter([xs[layer]], [yy], s=420, facecolor="white" if off else face,
                           edgecolor="#aaaaaa" if off else "black", linewidth=1.2, zorder=2)
                if off:
                    ax.scatter([xs[layer]], [yy], s=500, marker="x", color="#c0392b", linewidth=3, zorder=3)
                elif training and layer == 1:
                    ax.text(xs[layer] + 0.24, yy, "×1/0.8", fontsize=10, va="center", color="#333333")
        for x, name in zip(xs, ("input", "hidden", "output")):
            ax.text(x, -0.75, name, ha="center", fontsize=13)
        ax.set_title("training: one minibatch's sub-network\n(each hidden unit zeroed with probability 0.2, "
                     "the rest scaled by 1/0.8)" if training else
                     "prediction: the whole network, no unit dropped\n(no scaling: training already did it)",
                     fontsize=13)
    fig.tight_layout()
    return fig


def chain_dssp(chain) -> plt.Figure:
    """``chain``'s sequence, each residue coloured by its DSSP state, the 8 and 3 states written below."""
    from sspred.alphabet import STATES3, STATES8

    sequence = chain.sequence
    s8 = "".join(STATES8[i] for i in chain.labels("8"))
    s3 = "".join(STATES3[i] for i in chain.labels("3"))
    step = 0.235
    width = 1.6 + step * len(sequence) + 0.3
    fig, ax = blank(width, 3.6)
    x0 = 1.6
    rows = [("sequence", sequence, 2.6), ("DSSP, 8 states", s8, 2.05), ("3 states", s3, 1.5)]
    for label, text, y in rows:
        ax.text(x0 - 0.15, y, label, ha="right", va="center", fontsize=11)
        for i, letter in enumerate(text):
            state = s8[i] if label != "3 states" else letter
            colour = STATE_COLOURS[state] if label != "3 states" else THREE_COLOURS[state]
            ax.add_patch(Rectangle((x0 + i * step, y - 0.23), step, 0.46, facecolor=colour, edgecolor="white",
                                   lw=0.8))
            dark = colour in ("#d62728", "#1f77b4", "#e377c2")
            ax.text(x0 + (i + 0.5) * step, y, letter, ha="center", va="center", fontsize=12,
                    family="DejaVu Sans Mono", color="white" if dark else "black")
    for i in range(0, len(sequence), 10):
        ax.text(x0 + (i + 0.5) * step, 3.0, str(i + 1), ha="center", fontsize=9, color="#555555")
    for k, (state, name) in enumerate(STATE_NAMES.items()):
        x = x0 + k * (width - x0) / 8.2
        ax.add_patch(Rectangle((x, 0.55), 0.3, 0.3, facecolor=STATE_COLOURS[state], edgecolor="#999999",
                               lw=0.5))
        ax.text(x + 0.4, 0.7, f"{state} {name}", va="center", fontsize=11)
    ax.text(x0, 3.35, f"CB513 chain {chain.id} ({len(sequence)} residues) with its DSSP states "
            "(H, G, I → H; E, B → E; T, S, C → C)", fontsize=12)
    return fig


def make(out: Path = HERE, data_dir: Path | None = None) -> list[Path]:
    """Draw every diagram into ``out``; the paths written."""
    import sspred

    setup()
    chains = sspred.load_data("cb513", "test", data_dir=data_dir) if data_dir else sspred.load_data("cb513",
                                                                                                     "test")
    (chain,) = [c for c in chains if c.id == CHAIN_ID]
    figures = {"network_1988.svg": network_1988(chain.sequence), "backprop_graph.svg": backprop_graph(),
               "dropout.svg": dropout(), "chain_dssp.svg": chain_dssp(chain)}
    written = []
    for name, fig in figures.items():
        fig.savefig(out / name, **SAVE)
        plt.close(fig)
        written.append(out / name)
    return written


if __name__ == "__main__":
    if matplotlib.__version__ != MADE_WITH:
        print(f"note: matplotlib {matplotlib.__version__}, the committed diagrams are from {MADE_WITH}",
              file=sys.stderr)
    for path in make():
        print(path)
