"""What the conv and attention tests share: the example chains, weights with biases off zero, the
finite-difference check of a network's gradients over a chain layout, and the check that both engines
give the same logits, loss and gradients over a chain layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sspred
from sspred.alphabet import N_UNITS
from sspred.engines.numpy.gradcheck import numeric_grad, relative_error
from sspred.engines.numpy.losses import MultiHeadCrossEntropy, SoftmaxCrossEntropy
from sspred.engines.numpy.network import Network
from sspred.engines.spec import gap, initial_state
from sspred.features import one_hot
from sspred.heads import ABSENT, Heads
from sspred.io.fasta import parse_fasta
from sspred.layout import lay_out

EXAMPLE = Path(sspred.__file__).parent / "examples" / "example.fasta"

#: Agreement demanded of the two engines per dtype (relative to the largest magnitude compared).
TOL = {"float64": 1e-8, "float32": 1e-4}


@pytest.fixture(scope="module")
def example_codes() -> list[np.ndarray]:
    """The packaged example chains (lengths 129, 208, 20 and 234)."""
    return [r.codes for r in parse_fasta(EXAMPLE)]


def random_state(specs: list[dict], rng: np.random.Generator, dtype) -> dict[str, np.ndarray]:
    """Initial weights with biases moved off zero, so spacer and gap rows carry non-zero activations
    (a leak between chains or past a piece edge would then show)."""
    state = initial_state(specs, rng, np.dtype(dtype))
    for k in state:
        if k.endswith(".b"):
            state[k] = rng.normal(0, 0.3, state[k].shape).astype(dtype)
    return state


def assert_layout_gradients_match_finite_differences(specs: list[dict], codes: list[np.ndarray],
                                                     rng: np.random.Generator,
                                                     state: dict[str, np.ndarray] | None = None) -> None:
    """Every parameter's gradient, and the input's, against finite differences (float64), on a layout of two
    fragments of ``codes`` (9 and 6 residues) whose loss reads the scored rows only: gap rows and two
    unscored residues are left out. ``state``: the weights, else ``random_state`` drawn from ``rng``."""
    frags = [codes[0][:9], codes[1][40:46]]
    labels = [rng.integers(0, 3, c.size) for c in frags]
    labels[0][[2, 6]] = -1
    layout = lay_out(frags, gap(specs), labels)
    rows = np.flatnonzero(layout.labels >= 0)
    y = layout.labels[rows]
    assert rows.size == 13 and not (~layout.valid[rows]).any()

    net = Network(specs, dtype="float64")
    net.load_params(state if state is not None else random_state(specs, rng, "float64"))
    net.set_valid(layout.valid)
    # Off the one-hot lattice, so the input gradient is exercised too.
    x = one_hot(layout.codes[:, None], np.float64) + rng.normal(0, 0.1, (layout.codes.size, N_UNITS))
    loss_fn = SoftmaxCrossEntropy()

    def f():
        return loss_fn.forward(net.forward(x, train=True)[rows], y)

    f()
    dlogits = np.zeros((x.shape[0], 3))
    dlogits[rows] = loss_fn.backward()
    dx = net.backward(dlogits)
    analytic = {k: g.copy() for k, g in net.grads.items()}
    assert set(analytic) == set(net.params)
    for k, p in net.params.items():
        assert relative_error(analytic[k], numeric_grad(f, p)) < 1e-6, k
    assert relative_error(dx, numeric_grad(f, x)) < 1e-6


def head_targets(heads: Heads, valid: np.ndarray, rng: np.random.Generator, soft_first: bool) -> dict[str, np.ndarray]:
    """Targets of every row of a layout, as layout.ChainIndex gives them: name -> (N,) classes, -1 on gap rows
    and on about a quarter of the residues; with ``soft_first`` the first head's are (N, K) distributions
    (a teacher's), zero rows where absent."""
    n, out = valid.size, {}
    for i, (name, k) in enumerate(heads.heads):
        keep = valid & (rng.random(n) > 0.25)  # (N,)
        if soft_first and i == 0:
            y = rng.dirichlet(np.ones(k), n)  # (N, K)
            y[~keep] = 0
        else:
            y = np.where(keep, rng.integers(0, k, n), ABSENT)  # (N,)
        out[name] = y
    return out


def assert_engines_agree_on_layout(specs: list[dict], codes: list[np.ndarray], rng: np.random.Generator,
                                   dtype: str, heads: Heads | None = None, weights: dict | None = None,
                                   soft_first: bool = False) -> None:
    """Random weights, then random labels (-1 unscored) on ``codes`` laid out with gaps, both drawn from ``rng``:
    the NumPy and torch networks give the same logits, loss, input gradient and parameter gradients.

    With ``heads`` (a multi-task network's, its last layer ``heads.width`` wide) the loss is the multi-task one
    over dict targets (``head_targets``: absent rows, and a soft first head with ``soft_first``), with ``weights``."""
    torch = pytest.importorskip("torch")
    from sspred.engines.torch.network import DTYPES, TorchNetwork

    state = random_state(specs, rng, dtype)
    layout = lay_out(codes, gap(specs), [rng.integers(-1, 3, c.size) for c in codes])
    rows = np.flatnonzero(layout.labels >= 0)
    y = layout.labels[rows]
    x = one_hot(layout.codes[:, None], np.dtype(dtype))  # (N, 21)

    npnet = Network(specs, dtype=dtype)
    npnet.load_params(state)
    npnet.set_valid(layout.valid)
    logits = npnet.forward(x, train=True)
    if heads is None:
        loss_fn = SoftmaxCrossEntropy()
        loss = loss_fn.forward(logits[rows], y)
        dlogits = np.zeros_like(logits)
        dlogits[rows] = loss_fn.backward()
    else:
        targets = head_targets(heads, layout.valid, rng, soft_first)
        loss_fn = MultiHeadCrossEntropy(heads, weights)
        loss = loss_fn.forward(logits, targets)
        dlogits = loss_fn.backward()  # (N, W): zero on every row and head without a label
    dx = npnet.backward(dlogits)

    tnet = TorchNetwork(specs).to(dtype=DTYPES[dtype])
    tnet.load_arrays(state)
    tnet.set_valid(torch.from_numpy(layout.valid))
    tnet.train()
    xt = torch.from_numpy(x).requires_grad_(True)
    tlogits = tnet(xt)
    if heads is None:
        tloss = torch.nn.functional.cross_entropy(tlogits[torch.from_numpy(rows)], torch.from_numpy(y))
    else:
        from sspred.engines.torch.losses import multi_head_cross_entropy

        tloss = multi_head_cross_entropy(tlogits, targets, heads, weights)
    tloss.backward()

    tol = TOL[dtype]
    assert relative_error(logits, tlogits.detach().numpy()) < tol
    assert loss == pytest.approx(tloss.item(), rel=tol)
    assert relative_error(dx, xt.grad.numpy()) < tol
    tgrads = {k: p.grad.numpy() for k, p in tnet.named_parameters()}
    assert set(tgrads) == set(npnet.grads) == set(npnet.params)
    for k, g in npnet.grads.items():
        assert relative_error(g, tgrads[k]) < tol, k
