"""Nothing lost: an interrupted or killed `sspred predict -o OUT` never leaves a file under OUT's name."""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli

AMINO = "ACDEFGHIKLMNPQRSTVWY"


@pytest.fixture(scope="module")
def big_fasta(tmp_path_factory) -> Path:
    """800,000 records, tens of seconds of work for -m fast, so the signal surely lands mid-run."""
    path = tmp_path_factory.mktemp("big") / "big.fa"
    rng = random.Random(0)
    with open(path, "w") as fh:
        for i in range(800_000):
            fh.write(f">r{i}\n{''.join(rng.choices(AMINO, k=30))}\n")
    return path


def start_mid_run(src: Path, out: Path) -> tuple[subprocess.Popen, Path]:
    """Start predict and return once its temporary output holds some records."""
    # SIGINT as a terminal delivers it: a test runner started in the background by a non-interactive shell
    # ignores SIGINT, and an exec'd child inherits that, so Python would never raise KeyboardInterrupt.
    proc = subprocess.Popen([sys.executable, "-m", "sspred", "predict", str(src), "-m", "fast", "-f", "fasta",
                             "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        parts = list(out.parent.glob(f".{out.name}.*.part"))
        if parts and parts[0].stat().st_size > 0:
            assert proc.poll() is None, "finished before it could be interrupted"
            return proc, parts[0]
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("no partial output appeared")


@pytest.mark.slow
@pytest.mark.parametrize("sig, code, message", [
    (signal.SIGINT, 130, "sspred: interrupted"),
    (signal.SIGTERM, 128 + signal.SIGTERM, ""),
])
def test_sigint_and_sigterm_leave_neither_output_nor_temp_file(big_fasta, tmp_path, sig, code, message):
    out = tmp_path / "pred.fa"
    proc, part = start_mid_run(big_fasta, out)
    assert part.name.startswith(f".pred.fa.{socket.gethostname().replace('.', '_')}.{proc.pid}.")
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert message in stderr and "Traceback" not in stderr
    assert not out.exists()
    assert not part.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 130)])
def test_a_signal_ends_one_long_batch_within_seconds(tmp_path, sig, code):
    """One chain of 30,000 residues through `accurate` is one batch of minutes of attention on worker threads:
    SIGTERM or Ctrl-C a second into it ends the run within seconds, not when the batch is done, and leaves
    neither the output nor its temporary file."""
    src = tmp_path / "long.fa"
    rng = random.Random(1)
    src.write_text(">long\n" + "".join(rng.choices(AMINO, k=30_000)) + "\n")
    out = tmp_path / "pred.fa"
    proc = subprocess.Popen([sys.executable, "-m", "sspred", "predict", str(src), "-m", "accurate", "-f", "fasta",
                             "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".pred.fa.*.part")):  # the model is loaded and the batch has started
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(1.0)
    assert proc.poll() is None, "finished before it could be interrupted"
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        _, stderr = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"still running 10 s after {sig.name}") from None
    assert time.monotonic() - sent < 5, f"took {time.monotonic() - sent:.1f} s to stop"
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.fa"]


@pytest.mark.slow
def test_sigkill_leaves_no_output_and_the_next_run_clears_the_temp_file(big_fasta, tmp_path):
    out = tmp_path / "pred.fa"
    out.write_text(">old\nCCC\n")  # a good earlier result must survive a killed rewrite untouched
    proc, part = start_mid_run(big_fasta, out)
    proc.kill()
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert out.read_text() == ">old\nCCC\n"
    assert part.exists() and part.stat().st_size > 0  # SIGKILL cannot be caught: the hidden .part stays...
    small = tmp_path / "small.fa"
    small.write_text(">s\nMKTAYIAKQR\n")
    r = run_cli("predict", str(small), "-m", "fast", "-f", "fasta", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines()[0] == ">s"
    assert not part.exists()  # ...until the next write to the same name sees its writer is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pred.fa", "small.fa"]


@pytest.mark.slow
def test_failure_mid_run_keeps_the_previous_output(tmp_path):
    """A bad record late in the file: exit 2, and the earlier good file under OUT is untouched."""
    out = tmp_path / "pred.fa"
    out.write_text(">old\nCCC\n")
    src = tmp_path / "in.fa"
    src.write_text("".join(f">r{i}\nMKTAYIAKQR\n" for i in range(3000)) + ">bad\nMK1\n")
    r = run_cli("predict", str(src), "-m", "fast", "-f", "fasta", "-o", str(out))
    assert r.returncode == 2 and "record 'bad', position 3" in r.stderr
    assert out.read_text() == ">old\nCCC\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.fa", "pred.fa"]


#: Methods that write a file when called on a path, array module, figure or serializer.
WRITE_METHODS = ("write_text", "write_bytes", "savez", "savez_compressed", "save", "savefig", "to_csv", "dump")


def _writes_outside_atomic_output(tree) -> list[int]:
    """Lines of calls that write a file, outside a ``with atomic_output(...)``/``with output(...)`` block.

    A call on one of sspred's own modules (``modelfile.save``, ``plots.save``, a checkpoint module's ``save``), or on
    a value annotated as one of its types (``model: Model = ...; model.save(out)``), is delegation, not a write:
    that module's body is audited by the same test.
    """
    import ast

    guarded: set[int] = set()
    own_modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
                isinstance(item.context_expr, ast.Call) and getattr(item.context_expr.func, "id", None)
                in ("atomic_output", "output") for item in node.items):
            guarded.update(range(node.lineno, node.end_lineno + 1))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sspred"):
            own_modules.update(a.asname or a.name for a in node.names)
        if isinstance(node, ast.Import):
            own_modules.update(a.asname for a in node.names if a.asname and a.name.startswith("sspred"))
    own_values = {node.target.id for node in ast.walk(tree) if isinstance(node, ast.AnnAssign)
                  and isinstance(node.target, ast.Name) and getattr(node.annotation, "id", None) in own_modules}
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "open":
            mode = next((a.value for a in node.args[1:2] if isinstance(a, ast.Constant)), None)
            mode = next((k.value.value for k in node.keywords if k.arg == "mode" and isinstance(k.value, ast.Constant)),
                        mode)
            writes = isinstance(mode, str) and any(c in mode for c in "wax+")
        else:
            writes = (isinstance(func, ast.Attribute) and func.attr in WRITE_METHODS
                      and getattr(func.value, "id", None) not in own_modules | own_values)
        if writes and node.lineno not in guarded:
            bad.append(node.lineno)
    return bad


def test_every_writer_in_the_package_goes_through_atomic_output():
    """Static audit: predictions, models, checkpoints, reports and figures are all written via atomic_output."""
    import ast

    src = Path(__file__).resolve().parents[1] / "src" / "sspred"
    offenders = {}
    for path in src.rglob("*.py"):
        if path.name == "textfile.py":  # atomic_output itself
            continue
        bad = _writes_outside_atomic_output(ast.parse(path.read_text()))
        if bad:
            offenders[str(path.relative_to(src))] = bad
    assert offenders == {}, f"file writes outside atomic_output: {offenders}"
