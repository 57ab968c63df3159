"""Sharding over Dask: a 2-worker LocalCluster gives output identical, byte for byte, to one process."""

import io

import pytest

from conftest import netsurfp2_fasta, random_window_model, run_cli
from sspred.io.fasta import parse_fasta
from sspred.io.formats import WRITERS
from sspred.model import load_model
from sspred.predict.batch import predict_batches

pytestmark = pytest.mark.slow  # Dask clusters and subprocesses on the NetSurfP-2.0 set

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def cluster():
    # Threads, not processes: CI-friendly, and the workers still run shards concurrently. TCP, not
    # in-process comms, so a CLI run in a subprocess can connect to the scheduler.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return random_window_model(tmp_path_factory.mktemp("m") / "w19.npz", 19, [32, 16], "relu", seed=2)


@pytest.fixture(scope="module")
def real_fasta(data_dir, tmp_path_factory):
    return netsurfp2_fasta(data_dir, tmp_path_factory.mktemp("fa") / "nsp200.fasta", 200, describe=True)


def render(fmt, model, batches):
    buf = io.StringIO()
    writer = WRITERS[fmt](buf, model_name="sspred t", states=model.state_order)
    writer.begin()
    for batch in batches:
        for rec, probs in batch:
            writer.record(rec.id, rec.sequence, probs)
    writer.end()
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["ss2", "json"])
def test_dask_shards_give_identical_output_in_order(cluster, model_file, real_fasta, fmt):
    from sspred.predict.dask import predict_records_dask

    model = load_model(model_file)
    local = render(fmt, model, predict_batches(model, parse_fasta(str(real_fasta)), 4_000))
    with distributed.Client(cluster) as client:
        shards = list(predict_records_dask(model, parse_fasta(str(real_fasta)), client, 4_000, in_flight=3))
        assert len(shards) > 10  # really sharded
        assert len(client.has_what()) == 2
        sharded = render(fmt, model, shards)
    assert sharded == local


def test_cli_dask_scheduler_matches_single_process(cluster, model_file, real_fasta):
    single = run_cli("predict", str(real_fasta), "-m", str(model_file), "-f", "horiz", "--batch-residues", "5000")
    dask = run_cli("predict", str(real_fasta), "-m", str(model_file), "-f", "horiz", "--batch-residues", "5000",
                   "--dask-scheduler", cluster.scheduler_address)
    assert single.returncode == 0 and dask.returncode == 0, dask.stderr
    assert dask.stdout.encode() == single.stdout.encode()
    assert dask.stdout.count("# PSIPRED HFORMAT") == 200


def test_cli_rejects_two_clusters(model_file, real_fasta):
    r = run_cli("predict", str(real_fasta), "-m", str(model_file), "--dask-local", "2", "--dask-scheduler", "tcp://x:1")
    assert r.returncode == 2 and "not both" in r.stderr
