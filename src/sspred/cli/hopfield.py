"""sspred hopfield: the Hopfield-network experiments, each writing its figure (PNG) and data (JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer

from sspred import hopfield as hf
from sspred import plots
from sspred.cli.common import output_folder
from sspred.cli.root import SspredTyper, app
from sspred.errors import InputError
from sspred.io.textfile import atomic_output

hopfield_app = SspredTyper(no_args_is_help=True, help="Classical and modern Hopfield networks: capacity, beta, fixed points.")
app.add_typer(hopfield_app, name="hopfield")

OUT_DIR = typer.Option(Path("docs/hopfield"), "--out-dir", callback=output_folder,
                       help="Folder for the figure and its data (checked before any work).")
SEED = typer.Option(0, "--seed", help="Seed of the random patterns and update orders.")
DIM = typer.Option(64, "--dim", help="Dimension d of the patterns.")


def check(*bounds: tuple) -> None:
    """Each bound is (flag, value, low) or (flag, value, low, high); the first value outside its bound is an
    InputError naming the flag."""
    for flag, value, low, *rest in bounds:
        high = rest[0] if rest else float("inf")
        if not low <= value <= high:
            limits = f"between {low:g} and {high:g}" if np.isfinite(high) else f"at least {low:g}"
            raise InputError(f"{flag} must be {limits}, got {value:g}")


def save(out_dir: Path, stem: str, result, plot) -> Path:
    """Write <stem>.png and <stem>.json into out_dir; returns the PNG's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / f"{stem}.png"
    try:
        plot(result, png)
    except plots.PlotUnavailable as exc:
        typer.echo(f"sspred: error: {exc}", err=True)
        raise typer.Exit(2)
    with atomic_output(out_dir / f"{stem}.json", "w") as handle:
        json.dump(result.to_dict(), handle, indent=1, default=str)
    return png


@hopfield_app.command()
def capacity(
    out_dir: Path = OUT_DIR,
    seed: int = SEED,
    units: int = typer.Option(1000, "--units", help="Units N of the network."),
    max_load: float = typer.Option(0.26, "--max-load", help="Largest load P/N tried."),
    step: float = typer.Option(0.02, "--step", help="Spacing of the loads tried."),
    trials: int = typer.Option(1, "--trials", help="Independent pattern sets per load."),
    starts: int = typer.Option(100, "--starts", help="Stored patterns recalled per pattern set."),
    flip: float = typer.Option(0.1, "--flip", help="Fraction of units flipped in the corrupted cue."),
) -> None:
    """Classical network: recall against load P/N, and where it breaks down (theory: 0.138)."""
    check(("--units", units, 2), ("--max-load", max_load, 1e-3), ("--step", step, 1e-3), ("--trials", trials, 1),
          ("--starts", starts, 1), ("--flip", flip, 0.0, 1.0))
    loads = np.arange(step, max_load + step / 2, step)
    result = hf.capacity_experiment(units, loads, np.random.default_rng(seed), trials=trials, flip=flip,
                                    max_starts=starts)
    png = save(out_dir, "capacity", result, hf.plot_capacity)
    typer.echo("load  overlap  recalled  recalled(cue)  exact-fixed")
    for row in zip(result.loads, result.overlap_clean, result.retrieved_clean, result.retrieved_cued, result.perfect_clean):
        typer.echo("{:.3f}  {:.3f}    {:.3f}     {:.3f}          {:.3f}".format(*row))
    typer.echo(f"half of the stored patterns recalled up to load {result.breakdown:.3f} "
               f"(N = {units}; theory for N -> infinity: {hf.ALPHA_C}); wrote {png}")


@hopfield_app.command("modern-capacity")
def modern_capacity(
    out_dir: Path = OUT_DIR,
    seed: int = SEED,
    dim: int = DIM,
    max_log2: int = typer.Option(15, "--max-log2", help="Largest number of stored patterns, as a power of 2."),
    beta: float = typer.Option(1.0, "--beta", help="Inverse temperature of the modern update."),
    cues: int = typer.Option(200, "--cues", help="Corrupted cues scored per pattern count."),
) -> None:
    """Modern network: one-update retrieval of many more patterns than dimensions, against the classical one."""
    # 2**20 patterns of d = 64 is already 0.5 GiB of float64
    check(("--dim", dim, 2), ("--max-log2", max_log2, 3, 20), ("--beta", beta, 1e-12), ("--cues", cues, 1))
    counts = 2 ** np.arange(3, max_log2 + 1)
    result = hf.one_step_experiment(dim, counts, np.random.default_rng(seed), beta=beta, n_cues=cues)
    png = save(out_dir, "modern_capacity", result, hf.plot_one_step)
    typer.echo("patterns  " + "  ".join(f"modern/classical@{f:.0%}" for f in result.flips))
    for c, n in enumerate(result.counts):
        typer.echo(f"{n:8d}  " + "  ".join(f"{result.modern[f, c]:.3f}/{result.classical[f, c]:.3f}          "
                                           for f in range(len(result.flips))))
    for flip, n in result.capacity.items():
        typer.echo(f"{flip:.0%} flipped: >= 99% retrieved in one update at every count up to {n} patterns in d = {dim}")
    typer.echo(f"wrote {png}")


@hopfield_app.command()
def beta(
    out_dir: Path = OUT_DIR,
    seed: int = SEED,
    dim: int = DIM,
    patterns: int = typer.Option(1000, "--patterns", help="Stored patterns N."),
    noise: float = typer.Option(0.1, "--noise", help="Cue noise, relative to the pattern norm."),
) -> None:
    """Modern network: one-update retrieval error against beta for more and less separated patterns."""
    check(("--dim", dim, 2), ("--patterns", patterns, 2), ("--noise", noise, 0.0))
    betas = np.logspace(-2, 1, 31)
    correlations = np.array([0.0, 0.3, 0.6, 0.85])
    result = hf.beta_experiment(dim, patterns, betas, correlations, np.random.default_rng(seed), noise=noise)
    png = save(out_dir, "beta", result, hf.plot_beta)
    for r, rho in enumerate(result.correlations):
        good = np.flatnonzero(result.errors[r] < 1e-3)
        at = f"{result.betas[good[0]]:.3g}" if good.size else "never"
        typer.echo(f"pair cosine {rho:.2f}, separation {result.separations[r]:.1f}: error < 1e-3 from beta = {at}")
    typer.echo(f"wrote {png}")


@hopfield_app.command("fixed-points")
def fixed_points(out_dir: Path = OUT_DIR, seed: int = SEED) -> None:
    """Modern network: global-average, metastable and single-pattern fixed points as beta grows."""
    betas = np.logspace(-2.5, 4, 40)
    result = hf.fixed_point_experiment(betas, np.random.default_rng(seed))
    png = save(out_dir, "fixed_points", result, hf.plot_fixed_points)
    typer.echo("beta       patterns averaged  distinct fixed points")
    for b, p, n in zip(result.betas, result.participation, result.n_fixed_points):
        typer.echo(f"{b:9.4g}  {p:17.2f}  {n:21d}")
    typer.echo(f"wrote {png}")
