"""What both fuzz harnesses share: one scratch file each input is written to, and libFuzzer's main loop."""

import os
import sys
import tempfile

import atheris


def scratch_file(suffix: str) -> str:
    """A file in memory (/dev/shm where there is one) that each input overwrites: the readers are fuzzed
    through their real file handling (gzip, BOM and newline detection for FASTA)."""
    fd, path = tempfile.mkstemp(suffix=suffix, dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    if os.path.isdir(f"/proc/{os.getpid()}/fd"):
        # libFuzzer ends a timed run with C exit(), past Python's finally and atexit: the file is unlinked
        # now and reached through its open descriptor, so nothing is left behind.
        os.unlink(path)
        return f"/proc/{os.getpid()}/fd/{fd}"
    os.close(fd)
    return path


def write(path: str, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)


def run(test_one_input) -> None:
    """libFuzzer's loop over ``test_one_input`` (argv: corpus folders and libFuzzer flags)."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
