"""The page in a real headless Chromium (Debian's, driven by Playwright): what it draws equals the API's answer."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
sync_api = pytest.importorskip("playwright.sync_api")

from serve_support import REPO, chromium, live_server, model_path  # noqa: E402
from sspred.io import datasets  # noqa: E402
from sspred.model import load_model  # noqa: E402
from sspred.serve import Limits, create_app  # noqa: E402

pytestmark = pytest.mark.slow  # a browser

SCREENSHOT = REPO / "docs" / "serve-screenshot.png"
LIMITS = Limits(max_residues=5000)


@pytest.fixture(scope="module")
def chain(data_dir):
    """The first CB513 chain."""
    return datasets.load("cb513", "test", data_dir)[0]


@pytest.fixture(scope="module")
def server(data_dir):
    with live_server(create_app(model=load_model(model_path(data_dir)), limits=LIMITS)) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    p = context.new_page()
    p.set_default_timeout(20_000)
    requests: list[str] = []
    p.on("request", lambda r: requests.append(r.url))
    p.goto(server + "/")
    yield p
    context.close()
    outside = [u for u in requests if not (u.startswith(server + "/") or u.startswith("blob:"))]
    assert not outside, f"the page reached outside the server: {outside}"


def predict_on_page(page, text: str) -> None:
    page.fill("#fasta", text)
    page.click("#predict")
    # Locator waits, not wait_for_function: the page's CSP (rightly) forbids the eval that would need.
    page.locator("#error:not([hidden]), #results:not([hidden])").first.wait_for()
    sync_api.expect(page.locator("#predict")).to_be_enabled()


def test_rendered_states_equal_the_api_answer(page, server, chain):
    wrapped = "\n".join(chain.sequence[i:i + 70] for i in range(0, len(chain.sequence), 70))
    fasta = f">{chain.id} first CB513 chain\n{wrapped}\n"
    predict_on_page(page, fasta)
    assert page.is_hidden("#error")
    api = httpx.post(server + "/api/predict", content=fasta, headers={"Content-Type": "text/plain"}).json()
    (want,) = api["predictions"]

    record = page.locator(".record").first
    assert record.locator("h2").inner_text() == chain.id
    states = record.locator(".aa > span").evaluate_all("els => els.map(e => e.className.replace('s-', ''))")
    residues = record.locator(".aa > span").evaluate_all("els => els.map(e => e.textContent).join('')")
    letters = record.locator(".ss > span").evaluate_all("els => els.map(e => e.textContent).join('')")
    assert "".join(states) == letters == want["states"]
    assert residues == want["sequence"] == chain.sequence
    # Rows of 60 residues, and one confidence bar per residue.
    rows = record.locator(".row")
    assert rows.count() == math.ceil(len(chain.sequence) / 60)
    assert rows.first.locator(".aa > span").count() == min(60, len(chain.sequence))
    assert record.locator(".conf > span").count() == len(chain.sequence)

    # Helix, strand and coil are drawn in three distinct colours (the disorder ramp, when the model has that
    # head, is a legend item of its own).
    swatches = page.locator("#legend i.swatch").evaluate_all(
        "els => els.map(e => getComputedStyle(e).backgroundColor)")
    assert len(swatches) == 3 and len(set(swatches)) == 3
    by_state = record.locator(".aa > span").evaluate_all(
        "els => Object.fromEntries(els.map(e => [e.className, getComputedStyle(e).backgroundColor]))")
    assert len(set(by_state.values())) == len(by_state)

    # Pointing at a residue shows its three probabilities, as the API gave them.
    i = 41
    record.locator(f'.aa > span[data-i="{i}"]').hover()
    readout = page.inner_text("#readout")
    for k, state in enumerate(api["states"]):
        assert f"{want['probabilities'][i][k]:.2f}" in readout
    assert f"{chain.sequence[i]}{i + 1}:" in readout
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


@pytest.mark.parametrize("fmt", ["ss2", "horiz", "json"])
def test_downloads_equal_the_api(page, server, chain, fmt):
    fasta = f">{chain.id}\n{chain.sequence}\n"
    predict_on_page(page, fasta)
    with page.expect_download() as info:
        page.click(f'.downloads button[data-format="{fmt}"]')
    download = info.value
    assert download.suggested_filename == f"sspred-prediction.{fmt}"
    got = Path(download.path()).read_text()
    want = httpx.post(f"{server}/api/predict?format={fmt}", content=fasta, headers={"Content-Type": "text/plain"})
    if fmt == "json":
        assert httpx.Response(200, content=got).json() == want.json()
    else:
        assert got == want.text


@pytest.mark.parametrize("text, words", [
    (">p1\nMKVLA1GG\n", ["sequence 'p1'", "residue 6", "unknown residue symbol '1'", "one-letter amino-acid codes"]),
    ("", ["empty"]),
    (">p1\n" + "A" * (LIMITS.max_residues + 1) + "\n", ["5,000 residues", "max_residues"]),
    ("just some words, not a protein\n>p\nMKV", ["header line beginning with '>'"]),
])
def test_errors_appear_next_to_the_input_in_plain_words(page, text, words):
    predict_on_page(page, text)
    error = page.locator("#error")
    assert error.is_visible()
    message = error.inner_text()
    for w in words:
        assert w.lower() in message.lower()
    # Shown right under the input box, which is marked invalid.
    box, err = page.locator("#fasta").bounding_box(), error.bounding_box()
    assert 0 <= err["y"] - (box["y"] + box["height"]) < 40
    assert page.get_attribute("#fasta", "aria-invalid") == "true"


def test_sequence_ids_are_text_not_markup(page):
    evil = '<img/src=x/onerror=window.pwned=1>'
    predict_on_page(page, f">{evil}\nMKVLAAGLLG\n")
    assert page.locator(".record h2").inner_text() == evil
    assert page.locator(".record img").count() == 0
    assert page.evaluate("window.pwned === undefined")


def test_upload_a_fasta_file(page, tmp_path, chain):
    path = tmp_path / "query.fasta"
    path.write_text(f">{chain.id}\n{chain.sequence}\n")
    page.set_input_files("#file", str(path))
    sync_api.expect(page.locator("#fasta")).to_have_value(f">{chain.id}\n{chain.sequence}\n")


def test_a_failed_request_clears_the_old_results_and_downloads(page, chain):
    predict_on_page(page, f">{chain.id}\n{chain.sequence}\n")
    assert page.is_visible("#results") and page.locator(".record").count() == 1
    page.fill("#fasta", ">p1\nMK1V\n")
    page.click("#predict")
    page.locator("#error:not([hidden])").wait_for()
    assert page.is_hidden("#results") and page.locator(".record").count() == 0
    assert not page.locator(".downloads button").first.is_visible()
