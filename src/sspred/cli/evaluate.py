"""sspred evaluate: score a model on a named set's split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from sspred.alphabet import STATES3, STATES8
from sspred.cli.common import DATA_DIR
from sspred.cli.root import app
from sspred.evaluation import N_BOOTSTRAP
from sspred.evaluation import evaluate as evaluate_scores
from sspred.io import datasets
from sspred.io.find import split_label
from sspred.io.textfile import atomic_output, check_output


def _ci(r: dict, key: str, fmt: str = ".2f") -> str:
    ci = r.get("ci", {}).get(key)
    if not ci or ci[0] is None:
        return ""
    return f"  [95% CI {ci[0]:{fmt}}-{ci[1]:{fmt}}]"


def _num(x, fmt: str = ".2f") -> str:
    """A number, or 'n/a' (e.g. the precision of a state never predicted) padded to the same width."""
    return format("n/a", ">" + fmt.split(".")[0]) if x is None else format(x, fmt)


def _print_block(block: dict, states: str) -> None:
    typer.echo("class  precision  recall   MCC     SOV'99  SOV_refine")
    pc, s99, sref = block["per_class"], block["sov99"]["per_state"], block["sov_refine"]["per_state"]
    for s in states:
        typer.echo(f"  {s}    {_num(pc['precision'][s], '8.3f')}  {_num(pc['recall'][s], '6.3f')}  "
                   f"{_num(pc['mcc'][s], '6.3f')}  {_num(s99[s], '6.2f')}  {_num(sref[s], '6.2f')}")
    typer.echo("confusion (rows true, columns predicted): " + "  ".join(states))
    for s, row in zip(states, block["confusion"]):
        typer.echo(f"  {s} " + " ".join(f"{v:8d}" for v in row))


def _print_states(r: dict) -> None:
    """The secondary-structure scores: per class, confusion, calibration, SOV, Q3 and Q8 with intervals."""
    block3 = {"per_class": r["per_class"], "sov99": r["sov99"], "sov_refine": r["sov_refine"], "confusion": r["confusion"]}
    _print_block(block3, STATES3)
    source = "  (ss8 head)" if "q8_head" in r else ""
    if "eight_state" in r:
        typer.echo("8-state (ss8 head):" if source else "8-state:")
        _print_block(r["eight_state"], STATES8)
        e = r["eight_state"]
        typer.echo(f"SOV'99 (8-state) {_num(e['sov99']['overall'])}{_ci(r, 'sov99_8')}  "
                   f"SOV_refine (8-state) {_num(e['sov_refine']['overall'])}{_ci(r, 'sov_refine_8')}")
    cal = r["calibration"]
    digits = "  ".join(f"{d}:{_num(a, '.0f')}%" for d, (a, n) in
                       enumerate(zip(cal["confidence_digit"]["accuracy"], cal["confidence_digit"]["count"])) if n)
    typer.echo(f"accuracy by .horiz confidence digit ({cal['state_order']}): {digits}")
    typer.echo(f"ECE {_num(cal['ece'], '.4f')}{_ci(r, 'ece', '.4f')}  (top-label, {len(cal['bins']['count'])} bins)")
    typer.echo(f"SOV'99 {_num(r['sov99']['overall'])}{_ci(r, 'sov99')}  SOV_refine {_num(r['sov_refine']['overall'])}{_ci(r, 'sov_refine')}"
               "  (chain means)")
    typer.echo(f"Q3 per-chain mean {_num(r['q3_chain_mean'])}{_ci(r, 'q3_chain_mean')}")
    if "q8" in r:
        typer.echo(f"Q8 per-chain mean {_num(r['q8_chain_mean'])}{_ci(r, 'q8_chain_mean')}{source}")
        typer.echo(f"Q8 {_num(r['q8'])}{_ci(r, 'q8')}{source}")
    if "ci" in r:
        typer.echo(f"Q3 95% CI{_ci(r, 'q3')[len('  [95% CI'):-1]}  (bootstrap over chains, {r['bootstrap']['resamples']} resamples)")


def _print_heads(r: dict) -> None:
    """The disorder and conservation heads' scores, where the model has the head and the data its labels."""
    if "disorder" in r:
        d = r["disorder"]
        source = "chosen on validation, from the model" if d["threshold_source"] == "model" else "default"
        typer.echo(f"disorder ROC AUC {_num(d['auc'], '.4f')}  MCC {_num(d['mcc'], '.4f')} at P(disordered) >= "
                   f"{d['threshold']:.4f} ({source})  residues {d['residues']}, disordered {d['disordered']}")
    if "conservation" in r:
        c = r["conservation"]
        typer.echo(f"conservation Spearman {_num(c['spearman'], '.4f')}  3-group accuracy {_num(c['q3_groups'])}%"
                   f"  residues {c['residues']}")


@app.command()
def evaluate(
    data: str = typer.Option(..., "--data", help=f"Data set ({', '.join(datasets.DATASETS)}) or a labelled file."),
    model: Optional[str] = typer.Option(None, "-m", "--model", help="Built-in model name or model file."),
    split: str = typer.Option("test", "--split", help="test, valid or train."),
    data_dir: Optional[str] = DATA_DIR,
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the full report (all scores, intervals, calibration bins) as JSON here."),
    bootstrap: int = typer.Option(N_BOOTSTRAP, "--bootstrap", help="Resamples of the chains for the 95% intervals; 0 for none."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap resampling."),
) -> None:
    """Print Q3 (and Q8), per-class MCC, SOV, calibration and the confusion matrix; with a model's extra heads,
    disorder (ROC AUC, MCC at its threshold) and conservation scores. The last line is 'Q3 <percent>' ('Q3 n/a'
    for data without secondary-structure labels, such as the conservation set)."""
    if bootstrap < 0:
        raise typer.BadParameter("must be >= 0", param_hint="--bootstrap")
    if json_out is not None:
        check_output(json_out, inputs=[data])
    scores = evaluate_scores(model, data, split, data_dir=data_dir, bootstrap=bootstrap, seed=seed)
    r = scores.report
    typer.echo(f"model {r['model']}  data {split_label(data, split)}  chains {r['chains']}  scored residues {r['residues']}")
    if r["residues"]:
        _print_states(r)
    else:
        typer.echo(f"no secondary-structure labels in {split_label(data, split)}: Q3, MCC, SOV and calibration not scored")
    _print_heads(r)
    if json_out is not None:
        with atomic_output(json_out, "w") as handle:
            json.dump(r, handle, indent=1)
            handle.write("\n")
        typer.echo(f"report written to {json_out}")
    # The contract: the last line is exactly "Q3 <percent>" (or "Q3 n/a").
    typer.echo(f"Q3 {_num(scores.q3)}")
