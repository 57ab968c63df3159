"""Metrics against hand-worked numbers and the worked examples published with SOV'99 and SOV_refine."""

from __future__ import annotations

import numpy as np
import pytest

from sspred import metrics
from sspred.alphabet import MASKED

# --- Q3, per-chain Q3, MCC ------------------------------------------------------------------


def test_q3_drops_masked_residues():
    y_true = np.array([0, 1, 2, 1, MASKED])
    y_pred = np.array([0, 1, 1, 1, 2])
    cm = metrics.confusion(y_true, y_pred, 3)
    # 4 scored residues, 3 right: 75%. The masked one (predicted 2) counts nowhere.
    assert cm.sum() == 4
    assert metrics.accuracy(cm) == pytest.approx(75.0)


def test_pooled_and_chain_mean_q3_differ_as_worked_by_hand():
    chains_true = [np.array([0, 0, 1, 1]), np.array([2, 2, MASKED])]
    chains_pred = [np.array([0, 0, 1, 1]), np.array([2, 0, 0])]
    correct, total = metrics.chain_counts(chains_true, chains_pred)
    assert correct.tolist() == [4, 1] and total.tolist() == [4, 2]
    # Pooled: 5 of 6 residues = 83.33%; per chain: (100% + 50%) / 2 = 75%.
    assert metrics.pooled_accuracy(correct, total) == pytest.approx(500 / 6)
    assert metrics.chain_mean_accuracy(correct, total) == pytest.approx(75.0)


def test_mcc_by_hand_and_against_sklearn():
    cm = np.array([[5, 1, 0], [2, 3, 1], [0, 0, 4]])
    # Class 0 against the rest: tp 5, fp 2 (column 0 minus tp), fn 1 (row 0 minus tp), tn 16 - 8 = 8.
    # MCC = (5*8 - 2*1) / sqrt(7 * 6 * 10 * 9) = 38 / sqrt(3780).
    pc = metrics.per_class(cm)
    assert pc["mcc"][0] == pytest.approx(38 / np.sqrt(3780))
    assert pc["precision"][0] == pytest.approx(5 / 7) and pc["recall"][0] == pytest.approx(5 / 6)
    sk = pytest.importorskip("sklearn.metrics")
    t = np.repeat(np.repeat(np.arange(3), 3), cm.ravel())  # one (true, pred) pair per count
    p = np.repeat(np.tile(np.arange(3), 3), cm.ravel())
    for k in range(3):
        assert pc["mcc"][k] == pytest.approx(sk.matthews_corrcoef(t == k, p == k))


# --- SOV -----------------------------------------------------------------------------------

#: Liu & Wang (2018), SOV_refine, Source Code Biol Med 13:1, Table 1: one reference and eight
#: predictions with their published Q3, SOV'99 and SOV_refine (lambda = 1), as fractions.
REFERENCE = "CHHHHHHHHHHC"
PUBLISHED = [
    ("CHCHCHCHCHCC", 0.583, 0.125, 0.149),
    ("CHHHCHHHCHHC", 0.833, 0.406, 0.371),
    ("CHHCCHHHHHCC", 0.75, 0.523, 0.464),
    ("CCCHHHHCCCCC", 0.50, 0.544, 0.459),
    ("CCCHHHHHCCCC", 0.583, 0.632, 0.567),
    ("CCCHHHHHHCCC", 0.667, 0.806, 0.678),
    ("CCCHHHHHHHCC", 0.75, 0.903, 0.797),
    ("CCCHHHHHHHHC", 0.833, 0.944, 0.937),
]


@pytest.mark.parametrize("predicted, q3, sov99, sov_refine", PUBLISHED)
def test_sov_reproduces_published_table(predicted, q3, sov99, sov_refine):
    t = metrics.encode_states(REFERENCE, "CHE")
    p = metrics.encode_states(predicted, "CHE")
    assert round(metrics.accuracy(metrics.confusion(t, p, 3)) / 100, 3) == pytest.approx(q3, abs=1e-9)
    assert round(metrics.sov_strings(REFERENCE, predicted).overall / 100, 3) == pytest.approx(sov99, abs=1e-9)
    got = metrics.sov_strings(REFERENCE, predicted, kind="sov_refine").overall / 100
    assert round(got, 3) == pytest.approx(sov_refine, abs=1e-9)


def test_sov_worked_by_hand_per_state():
    # Observed CHHHHHHHHHHC, predicted CCCHHHHCCCCC (Predicted 4 above), residues 0-based.
    # H: s1 = [1,10] (len 10), s2 = [3,6] (len 4): minov 4, maxov 10,
    #    SOV'99 delta = min(10-4, 4, int(10/2), int(4/2)) = 2 -> (4+2)/10 * 10 = 6; N(H) = 10.
    # C: s1 = [0,0] with s2 = [0,2]: minov 1, maxov 3, delta = min(2, 1, 0, 1) = 0 -> 1/3;
    #    s1 = [11,11] with s2 = [7,11]: minov 1, maxov 5, delta = min(4, 1, 0, 2) = 0 -> 1/5; N(C) = 2.
    # Overall = (6 + 1/3 + 1/5) / 12 = 0.5444 (the table's 0.544).
    s = metrics.sov_strings(REFERENCE, "CCCHHHHCCCCC")
    np.testing.assert_allclose(s.numer, [1 / 3 + 1 / 5, 6.0, 0.0])
    np.testing.assert_allclose(s.norm, [2.0, 10.0, 0.0])
    assert s.overall == pytest.approx(100 * (6 + 1 / 3 + 1 / 5) / 12)
    assert np.isnan(s.per_state[2])  # no strand observed: SOV(E) undefined, not zero
    # SOV_refine: segments of lengths 1, 10, 1 in L = 12 and 2 states observed:
    # delta_all = 1 * 2 / ((1 + 100 + 1) / 144) = 288/102.
    # H: delta = min(6, 288/102 * 10/12 * 4/10) = 0.9412 -> 4.9412;
    # C: min(2, 288/102 * 1/12 * 1/3) -> (1 + 0.0784)/3; min(4, 288/102 * 1/12 * 1/5) -> (1 + 0.0471)/5.
    d_all = 288 / 102
    expected = (4 + d_all * 10 / 12 * 4 / 10) + (1 + d_all / 12 / 3) / 3 + (1 + d_all / 12 / 5) / 5
    r = metrics.sov_strings(REFERENCE, "CCCHHHHCCCCC", kind="sov_refine")
    assert r.overall == pytest.approx(100 * expected / 12)


def test_sov_counts_an_observed_segment_once_per_overlapping_prediction():
    # Observed HHHHHHHHHH; predicted HHHCCCHHHH splits it in two. s1 = [0,9] overlaps
    # s2 = [0,2] (minov 3, maxov 10, delta min(7,3,5,1) = 1 -> (3+1)/10*10 = 4) and
    # s2 = [6,9] (minov 4, maxov 10, delta min(6,4,5,2) = 2 -> 6). N(H) = 10 + 10 (Zemla's
    # normalisation counts len(s1) per pair). SOV = 10 / 20 = 50%. No coil observed: N(C) = 0.
    s = metrics.sov_strings("HHHHHHHHHH", "HHHCCCHHHH")
    assert s.numer[1] == pytest.approx(10.0) and s.norm[1] == 20.0 and s.norm[0] == 0.0
    assert s.overall == pytest.approx(50.0)


def test_sov_unpredicted_segment_adds_to_n_only():
    # Observed CCEEEECC, predicted all coil: the strand [2,5] has no overlapping predicted
    # strand, so it adds 4 to N(E) and nothing to the sum; SOV(E) = 0.
    s = metrics.sov_strings("CCEEEECC", "CCCCCCCC")
    assert s.norm[2] == 4.0 and s.numer[2] == 0.0 and s.per_state[2] == 0.0


def test_sov_masked_residue_is_a_gap_in_both_strings():
    # Residue 4 is unobserved. Without the gap rule the predicted helix [1,7] would overlap
    # both observed helices with maxov 7 each; with it, both strings are CHHH|HHHC and SOV = 100.
    assert metrics.sov_strings("CHHHXHHHC", "CHHHHHHHC").overall == pytest.approx(100.0)
    assert metrics.sov_strings("CHHHXHHHC", "CHHHHHHHC", kind="sov_refine").overall == pytest.approx(100.0)
    # A wrong prediction at a masked residue changes nothing.
    assert metrics.sov_strings("CHHHXHHHC", "CHHHEHHHC").overall == pytest.approx(100.0)
    # A fully masked chain has no score.
    assert np.isnan(metrics.sov_strings("XXX", "HHH").overall)


def test_sov_identical_strings_score_100_for_eight_states():
    s8 = "CHHHHGGGTTSEEEEBCCIIIIIC"
    for kind in metrics.SOV_DELTAS:
        assert metrics.sov_strings(s8, s8, states="HGIEBTSC", kind=kind).overall == pytest.approx(100.0)


def test_sov_rejects_bad_input():
    with pytest.raises(ValueError, match="letter"):
        metrics.sov_strings("CHQ", "CHH")
    with pytest.raises(ValueError, match="predicted has"):
        metrics.sov_strings("CHH", "CH")
    with pytest.raises(ValueError, match="unknown SOV kind"):
        metrics.sov(np.zeros(3, int), np.zeros(3, int), 3, kind="sov94")


def test_chain_mean_sov_skips_states_a_chain_lacks():
    a = metrics.sov_strings("CCEEEECC", "CCCCCCCC")
    b = metrics.sov_strings("CHHHHHHHHHHC", "CHHHHHHHHHHC")
    m = metrics.chain_mean_sov([a, b], 3)
    assert m["overall"] == pytest.approx((a.overall + b.overall) / 2)
    assert m["per_state"][2] == pytest.approx(a.per_state[2])  # only chain a observes a strand
    assert m["per_state"][1] == pytest.approx(100.0)            # only chain b observes a helix


# --- bootstrap ------------------------------------------------------------------------------


def test_bootstrap_ci_over_chains():
    stat = lambda d: metrics.pooled_accuracy(d["correct"], d["total"])  # noqa: E731
    same = {"correct": np.full(20, 7), "total": np.full(20, 10)}
    lo, hi = metrics.bootstrap_ci(same, stat, np.random.default_rng(0), 200)
    assert lo == pytest.approx(70.0) and hi == pytest.approx(70.0)  # nothing varies between chains
    mixed = {"correct": np.array([0, 10] * 10), "total": np.full(20, 10)}
    lo, hi = metrics.bootstrap_ci(mixed, stat, np.random.default_rng(0), 500)
    assert lo < 50.0 < hi and hi - lo > 20  # 20 chains of 0% or 100%: a wide interval around 50%
    again = metrics.bootstrap_ci(mixed, stat, np.random.default_rng(0), 500)
    assert again == (lo, hi)  # the Generator alone decides the resamples


# --- calibration ----------------------------------------------------------------------------


def test_ece_worked_by_hand():
    probs = np.array([[0.9, 0.1, 0.0],     # right, confidence 0.9
                      [0.8, 0.2, 0.0],     # wrong (true 1), 0.8
                      [0.4, 0.35, 0.25],   # right, 0.4
                      [0.45, 0.3, 0.25],   # wrong (true 1), 0.45
                      [0.5, 0.5, 0.0]])    # masked: ignored
    y = np.array([0, 1, 0, 1, MASKED])
    curve = metrics.reliability(probs, y, n_bins=2)
    # Bin (0, 0.5]: 0.4 and 0.45 -> confidence 0.425, accuracy 0.5.
    # Bin (0.5, 1]: 0.9 and 0.8 -> confidence 0.85, accuracy 0.5.
    # ECE = 2/4 * |0.5 - 0.425| + 2/4 * |0.5 - 0.85| = 0.0375 + 0.175 = 0.2125.
    assert curve["count"].tolist() == [2, 2]
    np.testing.assert_allclose(curve["confidence"], [0.425, 0.85])
    np.testing.assert_allclose(curve["accuracy"], [0.5, 0.5])
    assert metrics.expected_calibration_error(curve) == pytest.approx(0.2125)


def test_reliability_bins_are_right_closed():
    probs = np.array([[0.5, 0.5, 0.0], [0.6, 0.4, 0.0], [1.0, 0.0, 0.0]])
    curve = metrics.reliability(probs, np.array([0, 0, 0]), n_bins=2)
    # 0.5 belongs to (0, 0.5], 0.6 and 1.0 to (0.5, 1].
    assert curve["count"].tolist() == [1, 2]
    # With 10 bins, a top probability of exactly 0.3 (float rounding: 0.3 * 10 > 3) is in (0.2, 0.3].
    curve = metrics.reliability(np.array([[0.3, 0.25, 0.25, 0.2]]), np.array([0]), n_bins=10)
    assert curve["count"][2] == 1


def test_accuracy_by_level_by_hand():
    levels = np.array([0, 0, 9, 9, 9, 3])
    y = np.array([1, 2, 0, 0, 1, MASKED])
    p = np.array([1, 0, 0, 0, 0, 0])
    r = metrics.accuracy_by_level(levels, y, p, 10)
    assert r["count"][[0, 3, 9]].tolist() == [2, 0, 3]
    assert r["accuracy"][0] == pytest.approx(50.0) and r["accuracy"][9] == pytest.approx(200 / 3)
    assert np.isnan(r["accuracy"][3])


# --- disorder and conservation scores ----------------------------------------------------------

def _disorder_and_end_distance(data_dir, name):
    """Real targets and a real score with many ties: CB513/TS115 disorder and -(distance to the nearest end)."""
    from sspred.io import datasets

    chains = datasets.load(name, "test", data_dir)
    y = np.concatenate([c.disorder for c in chains])
    s = np.concatenate([-np.minimum(np.arange(len(c.sequence)), np.arange(len(c.sequence))[::-1])
                        for c in chains]).astype(float)
    return y, s


def test_roc_auc_worked_by_hand():
    # Pairs (positive, negative): (0.35, 0.1) yes, (0.35, 0.4) no, (0.8, 0.1) yes, (0.8, 0.4) yes -> 3/4.
    assert metrics.roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    # A tie counts one half; unknown labels (-1) are dropped with their scores.
    assert metrics.roc_auc(np.array([0, 1, -1]), np.array([0.5, 0.5, 9.0])) == pytest.approx(0.5)
    assert np.isnan(metrics.roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))


@pytest.mark.parametrize("name", ["cb513", "ts115"])
def test_roc_auc_matches_sklearn_on_real_disorder(data_dir, name):
    sk = pytest.importorskip("sklearn.metrics")
    y, s = _disorder_and_end_distance(data_dir, name)
    assert len(np.unique(s)) < s.size / 10  # heavy ties: the averaged ranks matter
    assert metrics.roc_auc(y, s) == pytest.approx(sk.roc_auc_score(y, s), abs=1e-12)


def test_average_ranks_match_scipy_with_ties(data_dir):
    stats = pytest.importorskip("scipy.stats")
    _, s = _disorder_and_end_distance(data_dir, "ts115")
    np.testing.assert_array_equal(metrics.average_ranks(s), stats.rankdata(s, method="average"))


def test_binary_mcc_matches_sklearn_on_real_disorder(data_dir):
    sk = pytest.importorskip("sklearn.metrics")
    y, s = _disorder_and_end_distance(data_dir, "ts115")
    for threshold in (-2.0, -5.0, -20.0):
        expect = sk.matthews_corrcoef(y, (s >= threshold).astype(int))
        assert metrics.binary_mcc(y, s, threshold) == pytest.approx(expect, abs=1e-12)


def test_best_mcc_threshold_is_the_brute_force_maximum(data_dir):
    y, s = _disorder_and_end_distance(data_dir, "cb513")
    threshold, mcc = metrics.best_mcc_threshold(y, s)
    brute = {t: metrics.binary_mcc(y, s, t) for t in np.unique(s)}
    best = max(brute.values())
    assert mcc == pytest.approx(best, abs=1e-12) and brute[threshold] == pytest.approx(best, abs=1e-12)
    assert threshold == max(t for t, m in brute.items() if m == pytest.approx(best, abs=1e-12))
    assert 0 < mcc < 1


def test_best_mcc_threshold_worked_by_hand():
    y = np.array([1, 1, 0, 1, 0, 0, -1])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.1, 5.0])
    # At t = 0.8: TP 2, FP 0, FN 1, TN 3 -> (2*3 - 0) / sqrt(2 * 3 * 3 * 4) = 6 / sqrt(72) = 0.7071;
    # t = 0.6 gives TP 3, FP 1, FN 0, TN 2 -> 6 / sqrt(4 * 3 * 3 * 2) = 0.7071 as well: the higher threshold wins.
    t, m = metrics.best_mcc_threshold(y, s)
    assert (t, m) == (0.8, pytest.approx(6 / np.sqrt(72)))


def test_spearman_worked_by_hand_and_against_scipy(data_dir):
    # Ranks of y = [5, 6, 7, 8, 7] are [1, 2, 3.5, 5, 3.5]; centred: x [-2, -1, 0, 1, 2], y [-2, -1, .5, 2, .5];
    # rho = 8 / sqrt(10 * 9.5).
    assert metrics.spearman(np.arange(1, 6), np.array([5, 6, 7, 8, 7])) == pytest.approx(8 / np.sqrt(95))
    stats = pytest.importorskip("scipy.stats")
    y, s = _disorder_and_end_distance(data_dir, "cb513")
    assert metrics.spearman(y, s) == pytest.approx(stats.spearmanr(y, s).statistic, abs=1e-12)


def test_conservation_groups_and_three_class_accuracy():
    assert metrics.conservation_groups(np.arange(10)).tolist() == [MASKED, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    true = np.array([1, 3, 4, 6, 7, 9, 0])
    pred = np.array([3, 4, 4, 9, 8, 1, 5])
    # Groups: true 0 0 1 1 2 2 (unknown), predicted 0 1 1 2 2 0: 3 of the 6 known residues agree.
    assert metrics.conservation_q3(true, pred) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="conservation classes run 0-9"):
        metrics.conservation_groups(np.array([10]))
