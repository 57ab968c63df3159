"""Cascades and ensembles: plain data in, model headers and parameters out.

A second stage (Qian & Sejnowski's structure-to-structure network; PSIPRED's second pass) reads a
window of a first model's probabilities and the chain's log length. Ensembles average members.
"""

from __future__ import annotations

import numpy as np

from sspred.errors import ConfigError
from sspred.features import stage2_units
from sspred.model import Model


def stage2_layers(window: int, hidden: list[int], activation: str, n_states: int) -> list[dict]:
    """Layer list of a second stage: (window*(K+1) + 1) inputs -> hidden -> K."""
    width = window * stage2_units(n_states) + 1
    specs: list[dict] = []
    for size in hidden:
        specs += [{"type": "linear", "in": width, "out": size, "init_for": activation}, {"type": activation}]
        width = size
    return specs + [{"type": "linear", "in": width, "out": n_states}]


def cascade(stage1: Model, window: int, layers: list[dict], params: dict[str, np.ndarray], name: str,
            **extra) -> tuple[dict, dict[str, np.ndarray]]:
    """Header and parameters of a single-member model whose first stage is ``stage1``."""
    if "members" in stage1.header or stage1.header.get("stage2"):
        raise ConfigError("stage1", "the first stage must be a single network without a second stage")
    header = {**stage1.header, "name": name, "stage2": {"window": window, "layers": layers}, **extra}
    header.pop("checksum", None)
    return header, {**stage1.params, **{f"stage2.{k}": v for k, v in params.items()}}


def ensemble(models: list[Model], name: str, **extra) -> tuple[dict, dict[str, np.ndarray]]:
    """Header and parameters of a model averaging ``models`` (all with the same states)."""
    if len({m.state_order for m in models}) != 1:
        raise ValueError("ensemble members must predict the same states")
    members: list[dict] = []
    params: dict[str, np.ndarray] = {}
    for k, m in enumerate(models):
        descs = m.header["members"] if "members" in m.header else [m.header]
        prefixes = [f"members.{j}." for j in range(len(descs))] if "members" in m.header else [""]
        for desc, prefix in zip(descs, prefixes):
            j = len(members)
            members.append({"name": desc.get("name", m.name), "model": desc["model"], "layers": desc["layers"],
                            **{k: desc[k] for k in ("stage2", "training", "train", "features", "provenance") if desc.get(k)}})
            params.update({f"members.{j}.{key[len(prefix):]}": v for key, v in m.params.items() if key.startswith(prefix)})
    first = models[0].header
    header = {"name": name, "alphabet": first["alphabet"], "model": first["model"], "layers": first["layers"],
              "members": members, **extra}
    return header, params
