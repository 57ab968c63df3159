"""The web service against a real trained model: answers equal the library's, limits answer 413/422, never 500."""

from __future__ import annotations

import io
import json
import os
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from serve_support import free_socket, live_server, model_path  # noqa: E402
from sspred.config import ModelConfig  # noqa: E402
from sspred.engines.numpy import Network  # noqa: E402
from sspred.io import datasets  # noqa: E402
from sspred.io.formats import confidence_digits, states_of  # noqa: E402
from sspred.io.fasta import parse_fasta  # noqa: E402
from sspred.io.sequences import nucleotide_warning, sequence_record  # noqa: E402
from sspred.model import build_header, load_model, save_model  # noqa: E402
from sspred.predict.api import Predictor, write  # noqa: E402
from sspred.serve import Limits, create_app  # noqa: E402
from sspred.serve.schemas import PredictResponse  # noqa: E402


@pytest.fixture(scope="module")
def model(data_dir):
    return load_model(model_path(data_dir))


@pytest.fixture(scope="module")
def chains(data_dir):
    """Three real chains from Qian & Sejnowski's test set."""
    return datasets.load("qs1988", "test", data_dir)[:3]


@pytest.fixture(scope="module")
def client(model):
    with TestClient(create_app(model=model)) as c:
        yield c


def fasta(chains) -> str:
    return "".join(f">{c.id} a description\n{c.sequence}\n" for c in chains)


def library_predictions(model, chains):
    """The library's predictions of the chains: sspred.load's path, the one `sspred predict` takes."""
    return Predictor(model).predict({c.id: c.sequence for c in chains})


def library_text(fmt, model, chains) -> str:
    out = io.StringIO()
    write(library_predictions(model, chains), out, format=fmt)
    return out.getvalue()


def test_json_answer_equals_library_prediction(client, model, chains):
    r = client.post("/api/predict", json={"sequences": [{"id": c.id, "sequence": c.sequence} for c in chains]})
    assert r.status_code == 200, r.text
    body = r.json()
    PredictResponse.model_validate(body)  # the documented shape
    assert body["model"]["name"] == model.name and body["model"]["checksum"] == model.header["checksum"]
    assert body["states"] == body["state_order"] == model.state_order == "CHE"
    assert body["predictions"] == [p.to_dict() for p in library_predictions(model, chains)]  # equal, not close
    for c, pred in zip(chains, body["predictions"]):
        probs = model.predict_proba_codes(c.codes)  # the one-chain path: another oracle
        assert pred["id"] == c.id and pred["sequence"] == c.sequence
        assert pred["confidence"] == confidence_digits(np.array(pred["probabilities"]))
        got = np.array(pred["probabilities"])
        assert got.shape == (len(c.sequence), 3)
        np.testing.assert_allclose(got, probs, atol=6e-5)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=5e-4)


def test_fasta_body_equals_json_body(client, chains):
    as_json = client.post("/api/predict", json={"sequences": [{"id": c.id, "sequence": c.sequence} for c in chains]})
    # Wrapped lines, lower case, CRLF: as users paste it.
    text = "".join(f">{c.id} x\r\n" + "\r\n".join(c.sequence[i:i + 50].lower() for i in range(0, len(c.sequence), 50))
                   + "\r\n" for c in chains)
    for media in ("text/plain", "text/x-fasta", "application/x-fasta; charset=utf-8"):
        as_fasta = client.post("/api/predict", content=text, headers={"Content-Type": media})
        assert as_fasta.status_code == 200, as_fasta.text
        assert as_fasta.json()["predictions"] == as_json.json()["predictions"]


def test_plain_sequence_without_header_is_one_record(client, model, chains):
    seq = chains[0].sequence
    wrapped = "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60))
    r = client.post("/api/predict", content=wrapped, headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    (pred,) = r.json()["predictions"]
    assert pred["id"] == "query" and pred["states"] == states_of(model.predict_proba_codes(chains[0].codes), model.state_order)


def test_gaps_are_removed_with_a_warning(client, chains):
    seq = chains[0].sequence
    r = client.post("/api/predict", content=f">g\n{seq[:10]}--..{seq[10:]}*\n", headers={"Content-Type": "text/plain"})
    assert r.status_code == 200
    body = r.json()
    assert body["predictions"][0]["sequence"] == seq
    assert "removed 4 gap" in body["warnings"][0]


def test_nucleotide_sequences_are_predicted_with_a_warning(client, chains):
    dna = "ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTT"
    r = client.post("/api/predict", json={"sequences": [{"id": "gfp_cds", "sequence": dna},
                                                        {"id": chains[0].id, "sequence": chains[0].sequence}]})
    assert r.status_code == 200
    (warning,) = r.json()["warnings"]
    assert "'gfp_cds' looks like DNA/RNA" in warning
    # the CLI's warning, word for word (it prints it as "sspred: warning: FILE: " + this)
    assert warning == nucleotide_warning(sequence_record("gfp_cds", dna))
    as_text = client.post("/api/predict", content=f">gfp_cds\n{dna}\n", headers={"Content-Type": "text/plain"})
    assert as_text.json()["warnings"] == [warning]


def test_bare_sequence_is_the_cli_reading_and_text_before_a_header_is_refused(client, chains):
    seq = chains[0].sequence
    (rec,) = parse_fasta(io.StringIO(seq + "\n"), path="in.fa")  # how sspred predict reads a headerless file
    r = client.post("/api/predict", content=seq, headers={"Content-Type": "text/plain"})
    assert [(p["id"], p["sequence"]) for p in r.json()["predictions"]] == [(rec.id, rec.sequence)] == [("query", seq)]
    bad = client.post("/api/predict", content=f"{seq}\n>a\nMKV\n", headers={"Content-Type": "text/plain"})
    assert bad.status_code == 422 and bad.json()["error"]["line"] == 1
    assert "text before the first '>' header" in bad.json()["error"]["message"]


@pytest.mark.parametrize("fmt", ["ss2", "horiz"])
def test_psipred_text_by_path_parameter_accept_and_get(client, model, chains, fmt):
    want_all = library_text(fmt, model, chains)
    by_path = client.post(f"/api/predict.{fmt}", content=fasta(chains), headers={"Content-Type": "text/plain"})
    by_param = client.post(f"/api/predict?format={fmt}", content=fasta(chains), headers={"Content-Type": "text/plain"})
    by_accept = client.post("/api/predict", content=fasta(chains),
                            headers={"Content-Type": "text/plain", "Accept": f"text/x-psipred-{fmt}"})
    for r in (by_path, by_param, by_accept):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        assert r.text == want_all
    one = chains[0]
    got = client.get(f"/api/predict.{fmt}", params={"sequence": one.sequence, "id": one.id})
    assert got.text == library_text(fmt, model, [one])
    assert client.get("/api/predict", params={"sequence": one.sequence, "id": one.id, "format": fmt}).text == got.text


def test_get_json_equals_post(client, chains):
    one = chains[1]
    got = client.get("/api/predict", params={"sequence": one.sequence, "id": one.id}).json()
    posted = client.post("/api/predict.json", json={"sequences": [{"id": one.id, "sequence": one.sequence}]}).json()
    assert got == posted


@pytest.mark.parametrize("body, position, words", [
    (">p1\nMKV1LL\n", 4, "unknown residue symbol '1'"),
    (">p1\nMKVLL\n>p2\nACGU*TT\n", 5, "'*' (stop) inside"),
])
def test_bad_symbols_are_422_naming_record_and_position(client, body, position, words):
    r = client.post("/api/predict", content=body, headers={"Content-Type": "text/plain"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["type"] == "invalid_input" and err["position"] == position and words in err["message"]
    assert err["record"] in ("p1", "p2") and f"residue {position}" in err["message"]


@pytest.mark.parametrize("body, words", [
    ("", "Empty input"),
    ("   \n\n", "Empty input"),
    (">only_a_header\n", "has a header line"),
    ("hello\n>x\nMKV\n", "header line beginning with '>'"),
    ("> \nMKV\n", "Write a name right after '>'"),
])
def test_empty_and_malformed_input_is_422_in_plain_words(client, body, words):
    r = client.post("/api/predict", content=body, headers={"Content-Type": "text/plain"})
    assert r.status_code == 422, r.text
    assert words in r.json()["error"]["message"]


@pytest.mark.parametrize("content, media", [
    (b"\xff\xfe>x\nMKV", "text/plain"),
    (b"{not json", "application/json"),
    (b'{"sequences": []}', "application/json"),
    (b'{"sequences": [{"sequence": "MKV", "extra": 1}]}', "application/json"),
    (b'{"sequences": [{"id": "has space", "sequence": "MKV"}]}', "application/json"),
    (b'[1, 2]', "application/json"),
])
def test_malformed_bodies_are_422_json(client, content, media):
    r = client.post("/api/predict", content=content, headers={"Content-Type": media})
    assert r.status_code == 422 and r.json()["error"]["message"]


def test_unsupported_media_type_is_415(client):
    r = client.post("/api/predict", content=b"<p>MKV</p>", headers={"Content-Type": "text/html"})
    assert r.status_code == 415 and "text/plain" in r.json()["error"]["message"]


@pytest.fixture(scope="module")
def small(model):
    limits = Limits(max_request_bytes=2000, max_residues=300, max_sequences=3)
    with TestClient(create_app(model=model, limits=limits)) as c:
        yield c


@pytest.mark.parametrize("body, limit", [
    (">a\n" + "A" * 2100 + "\n", "max_request_bytes"),
    (">a\n" + "A" * 200 + "\n>b\n" + "A" * 101 + "\n", "max_residues"),
    ("".join(f">s{i}\nMKV\n" for i in range(4)), "max_sequences"),
])
def test_each_limit_is_413_naming_it(small, body, limit):
    r = small.post("/api/predict", content=body, headers={"Content-Type": "text/plain"})
    assert r.status_code == 413, r.text
    err = r.json()["error"]
    assert err["type"] == "limit_exceeded" and err["limit"] == limit and limit in err["message"]
    assert err["maximum"] == getattr(small.app.state.limits, limit)
    # One under each limit is fine.
    assert small.post("/api/predict", content=">a\n" + "A" * 300 + "\n",
                      headers={"Content-Type": "text/plain"}).status_code == 200


def test_json_limits_and_chunked_bodies(small):
    many = {"sequences": [{"sequence": "MKV"}] * 4}
    assert small.post("/api/predict", json=many).json()["error"]["limit"] == "max_sequences"
    long = {"sequences": [{"sequence": "A" * 301}]}
    assert small.post("/api/predict", json=long).json()["error"]["limit"] == "max_residues"
    assert small.get("/api/predict", params={"sequence": "A" * 301}).json()["error"]["limit"] == "max_residues"

    def chunks():  # no Content-Length: the size is only known while reading
        for _ in range(30):
            yield b">a\n" + b"A" * 97

    r = small.post("/api/predict", content=chunks(), headers={"Content-Type": "text/plain"})
    assert r.status_code == 413 and r.json()["error"]["limit"] == "max_request_bytes"


def test_ss2_and_horiz_refused_for_an_eight_state_model(tmp_path, chains):
    config = ModelConfig(window=7, hidden=[], n_states=8)
    header = build_header(config, name="eight")
    save_model(tmp_path / "eight.npz", header, Network(header["layers"], rng=np.random.default_rng(0)).params)
    eight = load_model(tmp_path / "eight.npz")
    with TestClient(create_app(model=eight)) as c:
        r = c.get("/api/predict.ss2", params={"sequence": chains[0].sequence})
        assert r.status_code == 422 and r.json()["error"]["type"] == "unsupported_format"
        r = c.get("/api/predict.horiz", params={"sequence": chains[0].sequence})
        assert r.status_code == 422 and r.json()["error"]["type"] == "unsupported_format"
        assert "horiz format holds 3-state predictions" in r.json()["error"]["message"]
        assert c.get("/api/predict", params={"sequence": "MKV"}).json()["states"] == "HGIEBTSC"


class GatedPredictor(Predictor):
    """A real model whose prediction waits for a signal: it proves where prediction runs."""

    def __init__(self, model):
        super().__init__(model)
        self.started, self.release = threading.Event(), threading.Event()

    def predict_batches(self, *args, **kwargs):
        self.started.set()
        assert self.release.wait(30), "test never released the prediction"
        return super().predict_batches(*args, **kwargs)


def test_healthz_answers_while_a_prediction_runs(model, chains):
    gated = GatedPredictor(model)
    with TestClient(create_app(model=gated)) as c:
        answer = {}
        worker = threading.Thread(target=lambda: answer.update(r=c.post("/api/predict", content=fasta(chains[:1]),
                                                                        headers={"Content-Type": "text/plain"})))
        worker.start()
        assert gated.started.wait(30)
        # The prediction is blocked in its worker thread; the event loop must still answer.
        t0 = time.monotonic()
        health = c.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok", "model": model.name}
        assert time.monotonic() - t0 < 5 and worker.is_alive() and not gated.release.is_set()
        gated.release.set()
        worker.join(30)
    assert answer["r"].status_code == 200


def test_openapi_describes_the_routes(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/predict", "/api/predict.ss2", "/api/predict.horiz", "/api/predict.json"):
        assert {"get", "post"} <= set(paths[path])
        responses = paths[path]["post"]["responses"]
        assert {"200", "413", "415", "422"} <= set(responses)
        assert responses["413"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorResponse"
    body = paths["/api/predict"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "text/plain", "text/x-fasta", "application/x-fasta"}
    assert schema["components"]["schemas"]["PredictRequest"]["properties"]["sequences"]["maxItems"] == 1000
    assert "/healthz" in paths and "/" not in paths
    assert client.get("/docs").status_code == 404  # no Swagger UI: it would load a CDN script


def test_page_and_assets_are_served_from_package_data_only(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert '<script src="/app.js"></script>' in html and "http://" not in html and "https://" not in html
    for asset, media in (("/app.js", "text/javascript"), ("/style.css", "text/css")):
        r = client.get(asset)
        assert r.status_code == 200 and r.headers["content-type"].startswith(media)
        assert "http://" not in r.text and "https://" not in r.text  # no CDN
    assert "innerHTML" not in client.get("/app.js").text
    for probe in ("/../pyproject.toml", "/static/../app.py", "/index.html", "/%2e%2e/app.py"):
        assert client.get(probe).status_code == 404


def test_ids_come_back_as_data_not_markup(client):
    r = client.post("/api/predict", json={"sequences": [{"id": "<img/src=x/onerror=alert(1)>", "sequence": "MKV"}]})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["predictions"][0]["id"] == "<img/src=x/onerror=alert(1)>"


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_cli_serves_on_loopback_with_its_limits(data_dir, model, chains, workers):
    import subprocess
    import sys

    import httpx

    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # the server binds it next; a clash would show as a failed start below
    proc = subprocess.Popen([sys.executable, "-m", "sspred", "serve", "--port", str(port), "-m", model_path(data_dir),
                             "--max-residues", "400", "--log-level", "warning", "--workers", str(workers)],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "sspred serve did not start"
            time.sleep(0.2)
        one = chains[0]
        r = httpx.post(f"{base}/api/predict", content=f">{one.id}\n{one.sequence}\n",
                       headers={"Content-Type": "text/plain"})
        assert r.json()["predictions"] == [p.to_dict() for p in library_predictions(model, [one])]
        r = httpx.get(f"{base}/api/predict", params={"sequence": "A" * 401})
        assert r.status_code == 413 and r.json()["error"]["maximum"] == 400
        info = httpx.get(f"{base}/api/info").json()
        assert info["limits"]["max_residues"] == 400 and info["model"]["name"] == model.name
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in err  # loopback by default
    assert f"{workers} worker process" in err


def test_live_server_answers_concurrent_clients(model, chains):
    import httpx

    with live_server(create_app(model=model)) as base:
        want = {c.id: states_of(model.predict_proba_codes(c.codes), model.state_order) for c in chains}
        results = []

        def client_thread(c):
            with httpx.Client(base_url=base) as h:
                for _ in range(5):
                    r = h.post("/api/predict", json={"sequences": [{"id": c.id, "sequence": c.sequence}]})
                    results.append((r.status_code, c.id, r.json()["predictions"][0]["states"]))

        threads = [threading.Thread(target=client_thread, args=(c,)) for c in chains]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert len(results) == 15 and all(code == 200 and states == want[cid] for code, cid, states in results)


def test_schema_json_round_trip_is_plain_json(client, chains):
    # The JSON answer is exactly what json.loads reads: no NaN/Infinity, no numpy types.
    r = client.get("/api/predict", params={"sequence": chains[0].sequence})
    assert json.loads(r.text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}")) == r.json()


@pytest.mark.slow
def test_cli_refuses_bad_options_in_one_line(cli, tmp_path):
    r = cli("serve", "--log-level", "loud")
    assert r.returncode == 2 and "--log-level" in r.stderr and "Traceback" not in r.stderr
    r = cli("serve", "-m", str(tmp_path / "missing.npz"))
    assert r.returncode == 2 and "model file not found" in r.stderr and "Traceback" not in r.stderr
