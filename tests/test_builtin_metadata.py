"""What the built-in models' files say of themselves: every one names the data it was trained on."""

from __future__ import annotations

import pytest

import sspred
from sspred.model import BUILTIN, resolve
from sspred.modelfile import load as load_file
from sspred.predict.api import trained_on


@pytest.mark.parametrize("name", list(BUILTIN))
def test_every_builtin_model_says_what_it_was_trained_on(name):
    header, _ = load_file(resolve(name))  # the file alone: unirep's UniRep weights are not needed for this
    said = trained_on(header)
    assert isinstance(said, str) and said.strip()


def test_model_info_carries_it_and_ensembles_name_their_members_data():
    assert sspred.load("default").model_info["trained_on"] == trained_on(load_file(resolve("default"))[0])
    for name in ("default", "accurate", "unirep"):
        header, _ = load_file(resolve(name))
        assert header["trained_on"].startswith("netsurfp2 train without test-set homologs"), name
    assert "flip-conservation" in load_file(resolve("default"))[0]["trained_on"]
