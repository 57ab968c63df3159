"""Recipes: every built-in model rebuilt by one command.

A recipe is one TOML file beside this module (``fast.toml``, ``default.toml``, ...) that holds a model's whole
training story: pools of data with their leak lists by sha256, every member's full config and seed, teachers by
the recipe that builds them and the checksum of the file that taught the shipped member, and the rule that
chooses and combines the members. ``sspred train --recipe NAME --out FILE`` runs one (``build``); ``--smoke``
runs the same steps at toy size. ``sspred recipes`` lists them, and whether each shipped model's header names
its recipe's current sha256 (``listing``).

    >>> import sspred.recipes as recipes
    >>> "fast" in recipes.builtin_names()
    True
"""

from __future__ import annotations

from sspred.recipes.build import PROVENANCE, RECIPE, Built, Settings, build, write_record
from sspred.recipes.recipe import Choice, MemberRecipe, Recipe, TeacherRef, builtin_names, load, parse

__all__ = ["PROVENANCE", "RECIPE", "Built", "Choice", "MemberRecipe", "Recipe", "Settings", "TeacherRef", "build",
           "builtin_names", "listing", "load", "parse", "write_record"]


def listing() -> list[dict]:
    """Every built-in recipe: its name, the model it builds, its members, its sha256, and whether the shipped
    model's header carries that sha256 (``model_matches``; None for a recipe of no shipped model).

    Returns
    -------
    list of dict
        One entry per recipe, sorted by name.

    Examples
    --------
    >>> [r["name"] for r in listing()][:2]
    ['accurate', 'default']
    """
    from sspred.model import BUILTIN, read_model

    rows = []
    for name in builtin_names():
        r = load(name)
        matches = None
        if r.model in BUILTIN:
            matches = read_model(r.model).header.get(RECIPE, {}).get("sha256") == r.sha256
        rows.append({"name": r.name, "model": r.model or None, "description": r.description,
                     "members": [m.name for m in r.members], "teachers": [t.recipe for t in r.teachers],
                     "sha256": r.sha256, "model_matches": matches})
    return rows
