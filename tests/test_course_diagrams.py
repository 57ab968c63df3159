"""The course's diagrams (docs/course/figures/*.svg) are what docs/course/figures/make_diagrams.py draws.

The script is run into a temporary folder on the real CB513 chain it draws; with the matplotlib release the
committed files were drawn with, every file must come out byte for byte the same (the script writes no date
and salts SVG ids with a constant), so the committed diagrams cannot drift from their source. With another
release the glyph outlines may differ, and only the set of files and their content's shape are checked.
"""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "course" / "figures"
#: Each diagram and the chapter that shows it.
SHOWN_IN = {"network_1988.svg": "02_perceptron_to_mlp.py", "backprop_graph.svg": "03_backprop_by_hand.py",
            "dropout.svg": "06_overfitting_and_toolkit.py", "chain_dssp.svg": "01_data.py"}


def make_diagrams():
    pytest.importorskip("matplotlib")
    spec = importlib.util.spec_from_file_location("sspred_course_make_diagrams", FIGURES / "make_diagrams.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # reads CB513
def test_script_redraws_the_committed_diagrams(tmp_path, data_dir):
    script = make_diagrams()
    written = script.make(tmp_path, data_dir=data_dir)
    assert sorted(p.name for p in written) == sorted(SHOWN_IN)
    assert sorted(p.name for p in FIGURES.glob("*.svg")) == sorted(SHOWN_IN)
    for path in written:
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg") and float(root.get("width").removesuffix("pt")) >= 500, path.name
        if script.matplotlib.__version__ == script.MADE_WITH:
            assert path.read_bytes() == (FIGURES / path.name).read_bytes(), (
                f"{path.name} differs from a fresh run: run python docs/course/figures/make_diagrams.py")


def test_each_diagram_is_shown_in_its_chapter():
    for name, chapter in SHOWN_IN.items():
        text = (FIGURES.parent / chapter).read_text(encoding="utf-8")
        assert f"](figures/{name})" in text, f"{chapter} does not show figures/{name}"
