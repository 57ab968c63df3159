"""Classical and modern Hopfield networks: energy, fixed points, recall, and the link to attention."""

from __future__ import annotations

import numpy as np
import pytest

from sspred import hopfield as hf


def test_hebbian_weights_and_energy_by_hand():
    # One pattern xi = (1, -1, 1): W = xi xi^T / 3 with the diagonal zeroed, and every
    # off-diagonal product xi_i xi_j W_ij = 1/3, six of them: E(xi) = -1/2 * 6/3 = -1.
    xi = np.array([[1, -1, 1]], dtype=np.int8)
    w = hf.hebbian(xi)
    np.testing.assert_allclose(w, np.array([[0, -1, 1], [-1, 0, -1], [1, -1, 0]]) / 3)
    assert hf.energy(w, xi[0]) == pytest.approx(-1.0)
    assert hf.energy(w, -xi[0]) == pytest.approx(-1.0)  # the mirror image is stored too


@pytest.mark.parametrize("seed", range(4))
def test_energy_never_increases_under_asynchronous_updates(seed):
    rng = np.random.default_rng(seed)
    # Load 0.25, past capacity, so the states wander through many flips before settling.
    xi = hf.random_patterns(20, 80, rng)
    w = hf.hebbian(xi)
    s = hf.random_patterns(6, 80, rng)
    e = hf.energy(w, s)
    flips = 0
    for _ in range(5):
        for i in rng.permutation(80):
            flips += hf.update_unit(w, s, i)
            e_new = hf.energy(w, s)
            assert np.all(e_new <= e + 1e-12)
            e = e_new
    assert flips > 0


def test_stored_patterns_are_fixed_points_at_low_load():
    rng = np.random.default_rng(1)
    xi = hf.random_patterns(10, 400, rng)  # load 0.025
    w = hf.hebbian(xi)
    np.testing.assert_array_equal(hf.sync_step(w, xi), xi)
    s, flips = hf.async_sweep(w, xi, rng)
    assert flips == 0
    np.testing.assert_array_equal(s, xi)


def test_corrupted_pattern_is_restored_at_low_load():
    rng = np.random.default_rng(2)
    xi = hf.random_patterns(12, 300, rng)  # load 0.04
    w = hf.hebbian(xi)
    cue = hf.corrupt(xi, 0.2, rng)
    assert np.all(hf.overlap(cue, xi) == pytest.approx(0.6))  # exactly 60 of 300 units flipped
    s, sweeps = hf.recall_async(w, cue, rng)
    np.testing.assert_array_equal(s, xi)
    s, converged = hf.recall_sync(w, cue)
    assert converged
    np.testing.assert_array_equal(s, xi)


def test_recall_fails_far_beyond_capacity():
    rng = np.random.default_rng(3)
    result = hf.capacity_experiment(200, [0.05, 0.4], rng, trials=1, max_starts=30)
    assert result.retrieved_clean[0] == 1.0
    assert result.retrieved_clean[1] < 0.2
    assert 0.05 < result.breakdown < 0.4


# --- modern ------------------------------------------------------------------------------

def test_lse_and_energy_by_hand():
    # Two orthogonal patterns and xi = x_1, beta = 1: X^T xi = (4, 0) and
    # E = -log(e^4 + 1) + 1/2 * 4 + log 2 + 1/2 * 4.
    x = np.array([[2.0, 0.0], [0.0, 2.0]])
    xi = np.array([2.0, 0.0])
    assert hf.lse(1.0, np.array([4.0, 0.0])) == pytest.approx(np.log(np.exp(4) + 1))
    assert hf.modern_energy(x, xi, 1.0) == pytest.approx(-np.log(np.exp(4) + 1) + 2 + np.log(2) + 2)


def test_modern_energy_decreases_and_stays_non_negative():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((50, 8))
    for beta in (0.05, 0.5, 5.0):
        xi = rng.standard_normal((10, 8)) * 3
        e = hf.modern_energy(x, xi, beta)
        for _ in range(20):
            xi = hf.modern_update(x, xi, beta)
            e_new = hf.modern_energy(x, xi, beta)
            assert np.all(e_new <= e + 1e-9)
            assert np.all(e_new >= -1e-9)
            e = e_new


def test_modern_update_equals_scaled_dot_product_attention():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40, 16))  # stored patterns: keys and values
    xi = rng.standard_normal((7, 16))  # states: queries
    beta = 0.3
    ours = hf.modern_update(x, xi, beta)
    t = torch.from_numpy
    theirs = torch.nn.functional.scaled_dot_product_attention(t(xi)[None], t(x)[None], t(x)[None], scale=beta)[0]
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-12)
    # With projections (Ramsauer et al. eq. 10): queries R Wq, keys Y Wk, values Y Wk Wv is the
    # update of the projected state R Wq over projected patterns Y Wk, read out through Wv.
    wq, wk, wv = (rng.standard_normal((16, 16)) / 4 for _ in range(3))
    r, y = xi, x
    ours = hf.modern_update(y @ wk, r @ wq, beta) @ wv
    theirs = torch.nn.functional.scaled_dot_product_attention(t(r @ wq)[None], t(y @ wk)[None],
                                                              t(y @ wk @ wv)[None], scale=beta)[0]
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_separation_by_hand():
    x = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # x0: 4 - max(0, 2) = 2;  x1: 1 - max(0, 1) = 0;  x2: 2 - max(2, 1) = 0
    np.testing.assert_allclose(hf.separation(x), [2.0, 0.0, 0.0])


def test_one_update_retrieves_more_patterns_than_dimensions():
    rng = np.random.default_rng(6)
    result = hf.one_step_experiment(32, [256], rng, beta=1.0, flips=(0.1,), n_cues=50)
    assert result.modern[0, 0] == 1.0  # 8 patterns per dimension, all retrieved in one update
    assert result.classical[0, 0] == 0.0  # the Hebbian network holds about 0.14 per unit


def test_three_kinds_of_fixed_point():
    rng = np.random.default_rng(7)
    result = hf.fixed_point_experiment([0.01, 1.0, 1000.0], rng, n_clusters=4, per_cluster=5, shown=())
    n_avg, n_fixed = result.participation, result.n_fixed_points
    assert n_avg[0] == pytest.approx(20, rel=0.01) and n_fixed[0] == 1  # global average
    assert n_avg[1] == pytest.approx(5, rel=0.1) and n_fixed[1] == 4  # one metastable state per cluster
    assert n_avg[2] == pytest.approx(1, rel=0.01) and n_fixed[2] == 20  # every pattern on its own
    fixed, _ = hf.modern_iterate(result.patterns, result.patterns.copy(), 1000.0)
    np.testing.assert_allclose(fixed, result.patterns, atol=1e-6)


@pytest.mark.slow
def test_cli_writes_figure_and_data(cli, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "figs"
    proc = cli("hopfield", "capacity", "--out-dir", str(out), "--units", "100", "--max-load", "0.3",
               "--step", "0.1", "--starts", "10")
    assert proc.returncode == 0, proc.stderr
    assert (out / "capacity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import json
    data = json.loads((out / "capacity.json").read_text())
    assert data["n_units"] == 100 and len(data["loads"]) == 3
    assert "half of the stored patterns recalled" in proc.stdout


@pytest.mark.slow
def test_cli_rejects_a_bad_flip(cli, tmp_path):
    proc = cli("hopfield", "capacity", "--out-dir", str(tmp_path), "--flip", "1.5")
    assert proc.returncode == 2
    assert "--flip" in proc.stderr and not (tmp_path / "capacity.png").exists()
