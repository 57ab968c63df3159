"""Coverage-guided fuzzing of the model-file reader (atheris / libFuzzer). See fuzz/README.md.

Property: for any bytes, load_model either returns a model whose probabilities
for a short chain are a distribution per residue, or raises ModelFileError.
Any other exception (or a crash, or a run-away allocation caught by
-rss_limit_mb) is saved by libFuzzer as crash-<hash> / oom-<hash>.
"""

import atheris
from harness import run, scratch_file, write
import numpy as np

with atheris.instrument_imports(include=["sspred"]):
    from sspred.errors import ModelFileError
    from sspred.model import load_model

_PATH = scratch_file(".npz")
_CHAIN = np.arange(7, dtype=np.uint8)


def test_one_input(data: bytes) -> None:
    write(_PATH, data)
    try:
        model = load_model(_PATH)
    except ModelFileError:
        return
    probs = model.predict_proba(_CHAIN)
    assert probs.shape == (7, len(model.states))
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


if __name__ == "__main__":
    run(test_one_input)
