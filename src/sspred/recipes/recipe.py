"""A recipe: one TOML file that holds a model's whole training story.

What it names:
- the model it builds (``model``: a built-in name, or empty for an intermediate model such as a teacher);
- every member: its name, its pool of training data (``sspred.recipes.pools``) with the leak lists by sha256,
  its full TrainConfig (``sspred.config.TrainConfig.from_dict``; seed and epochs included, no wall clock) and,
  for a distilled member, its teacher as the recipe that builds it and the checksum of the model file that
  taught the shipped member;
- how members are chosen and combined (``[choice]``: the greedy step on validation and its rule) and which
  thresholds are set on validation.

A recipe is read, checked and hashed here; ``sspred.recipes.build`` runs it. The recipe's sha256 is the digest
of its file's bytes: the model file built from it carries that digest, so ``sspred recipes`` can tell whether a
shipped model still matches its recipe.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sspred.config import TrainConfig
from sspred.errors import ConfigError, InputError

#: Suffix of a recipe file; the built-in ones sit beside this module.
SUFFIX = ".toml"
#: Choice rules: "greedy" adds, one at a time, the candidate that most raises the average's validation accuracy;
#: "all" keeps every member.
CHOICE_RULES = ("greedy", "all")
#: Keys a recipe may hold at each level; anything else is refused, so a typo never passes silently.
RECIPE_KEYS = {"recipe", "model", "description", "members", "choice"}
MEMBER_KEYS = {"name", "pool", "config", "teacher", "note"}
CHOICE_KEYS = {"rule", "members", "min_gain", "valid", "thresholds"}
TEACHER_KEYS = {"recipe", "checksum"}


@dataclass(frozen=True)
class TeacherRef:
    """The model a member is distilled from: the recipe that builds it and the checksum (``header["checksum"]``,
    ``sspred.container.checksum``) of the model file that taught the shipped member."""

    recipe: str
    checksum: str


@dataclass(frozen=True)
class MemberRecipe:
    """One network of a recipe: its name, its pool (name and options), its full config and its teacher."""

    name: str
    pool: dict[str, Any]
    config: TrainConfig
    teacher: TeacherRef | None = None
    note: str = ""

    @property
    def pool_name(self) -> str:
        """The pool's name (``sspred.recipes.pools.POOLS``)."""
        return str(self.pool["name"])


@dataclass(frozen=True)
class Choice:
    """How the members are chosen and combined: ``rule`` (CHOICE_RULES), at most ``members`` of them, a step
    kept only when it adds at least ``min_gain`` points, scored on the validation split of the pool ``valid``;
    ``thresholds`` lists the heads whose decision threshold is set on that validation split (MCC-best)."""

    rule: str = "all"
    members: int = 0
    min_gain: float = 0.0
    valid: dict[str, Any] = field(default_factory=dict)
    thresholds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe file: what ``sspred train --recipe`` runs.

    Parameters
    ----------
    name : str
        The recipe's name (its file's stem for a built-in one).
    model : str
        The built-in model it builds; "" for an intermediate model (a teacher).
    description : str
        One line on what the model is.
    members : tuple of MemberRecipe
        The networks to train, in order.
    choice : Choice
        How members are chosen and combined.
    sha256 : str
        The digest of the recipe file's bytes.
    path : str
        Where it was read from.
    """

    name: str
    model: str
    description: str
    members: tuple[MemberRecipe, ...]
    choice: Choice
    sha256: str
    path: str

    @property
    def teachers(self) -> list[TeacherRef]:
        """The distinct teachers its members name, in member order."""
        seen: dict[str, TeacherRef] = {}
        for m in self.members:
            if m.teacher is not None:
                seen.setdefault(m.teacher.recipe, m.teacher)
        return list(seen.values())


def builtin_dir() -> Path:
    """The folder of the built-in recipes (inside the installed package)."""
    return Path(str(resources.files("sspred.recipes")))


def builtin_names() -> list[str]:
    """The built-in recipes' names, sorted."""
    return sorted(p.stem for p in builtin_dir().glob(f"*{SUFFIX}"))


def _unknown(where: str, d: dict, known: set[str]) -> None:
    extra = sorted(set(d) - known)
    if extra:
        raise ConfigError(extra[0], f"{where}: unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)} "
                                    f"(known: {', '.join(sorted(known))})")


def _member(d: dict, path: str) -> MemberRecipe:
    if not isinstance(d, dict):
        raise InputError("each [[members]] entry is a table", path=path)
    _unknown(f"{path}: member {d.get('name', '?')}", d, MEMBER_KEYS)
    for key in ("name", "pool", "config"):
        if key not in d:
            raise ConfigError(key, f"{path}: member {d.get('name', '?')} has no {key!r}")
    pool = d["pool"] if isinstance(d["pool"], dict) else {"name": d["pool"]}
    teacher = None
    if "teacher" in d:
        _unknown(f"{path}: member {d['name']}: teacher", d["teacher"], TEACHER_KEYS)
        teacher = TeacherRef(str(d["teacher"]["recipe"]), str(d["teacher"]["checksum"]))
    config = TrainConfig.from_dict(d["config"])
    if config.teacher:
        raise ConfigError("teacher", f"{path}: member {d['name']}: name the teacher as teacher = {{recipe, checksum}}, "
                                     "not as a file in its config")
    if config.max_seconds:
        raise ConfigError("max_seconds", f"{path}: member {d['name']}: a recipe trains for its epochs; a wall-clock "
                                         "limit would make the result depend on the machine")
    return MemberRecipe(str(d["name"]), dict(pool), config, teacher, str(d.get("note", "")))


def parse(text: bytes, path: str, name: str | None = None) -> Recipe:
    """A Recipe from a recipe file's bytes, every key checked.

    Parameters
    ----------
    text : bytes
        The file's content (TOML, UTF-8).
    path : str
        Where it came from (for messages).
    name : str, optional
        Its name when the file gives none (the file's stem).

    Returns
    -------
    Recipe
        The recipe, with the sha256 of ``text``.

    Raises
    ------
    sspred.InputError
        When the text is not TOML or lacks members.
    sspred.ConfigError
        On an unknown key, a bad config value, a bad choice rule, or a member named twice.

    Examples
    --------
    >>> r = parse(b'recipe = "tiny"\\n[[members]]\\nname = "w"\\npool = "netsurfp2"\\n'
    ...           b'[members.config]\\nepochs = 2\\n', "tiny.toml")
    >>> r.name, r.members[0].config.epochs, r.choice.rule, len(r.sha256)
    ('tiny', 2, 'all', 64)
    """
    try:
        d = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a TOML recipe: {exc}", path=path) from None
    _unknown(path, d, RECIPE_KEYS)
    members = d.get("members")
    if not members or not isinstance(members, list):
        raise InputError("a recipe has one or more [[members]]", path=path)
    parsed = tuple(_member(m, path) for m in members)
    names = [m.name for m in parsed]
    if len(set(names)) != len(names):
        raise ConfigError("members", f"{path}: a member name is given twice ({', '.join(names)})")
    c = d.get("choice", {})
    _unknown(f"{path}: choice", c, CHOICE_KEYS)
    rule = str(c.get("rule", "all"))
    if rule not in CHOICE_RULES:
        raise ConfigError("rule", f"{path}: choice rule {rule!r} is not one of {', '.join(CHOICE_RULES)}")
    valid = c.get("valid", {"name": "netsurfp2", "exclude_leaks": True})
    choice = Choice(rule, int(c.get("members", len(parsed))), float(c.get("min_gain", 0.0)),
                    valid if isinstance(valid, dict) else {"name": valid}, tuple(c.get("thresholds", ())))
    return Recipe(str(d.get("recipe") or name or Path(path).stem), str(d.get("model", "")),
                  str(d.get("description", "")), parsed, choice, hashlib.sha256(text).hexdigest(), path)


def load(name_or_path: str | os.PathLike) -> Recipe:
    """A built-in recipe by name (``builtin_names``), or a recipe file.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        A built-in recipe's name, or a path to a ``.toml`` recipe.

    Returns
    -------
    Recipe
        The parsed recipe.

    Raises
    ------
    sspred.InputError
        When neither a built-in recipe nor a readable file has that name.
    sspred.ConfigError
        When the recipe holds a bad key or value.

    Examples
    --------
    >>> load("fast").model
    'fast'
    """
    text = str(name_or_path)
    builtin = builtin_dir() / f"{text}{SUFFIX}"
    path = builtin if text in builtin_names() else Path(name_or_path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"no built-in recipe or readable recipe file {text!r} ({exc.strerror or exc}; built-in: "
                         f"{', '.join(builtin_names())})") from None
    return parse(data, str(path), path.stem)
