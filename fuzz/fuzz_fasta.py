"""Coverage-guided fuzzing of the FASTA reader (atheris / libFuzzer). See fuzz/README.md.

Property: for any bytes, parse_fasta either yields records whose id is one
whitespace-free word and whose codes match the sequence, or raises InputError.
Any other exception is a crash that libFuzzer saves as crash-<hash>.
"""

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["sspred"]):
    from sspred.errors import InputError
    from sspred.io.fasta import parse_fasta

# One file rewritten per input: parse_fasta is fuzzed through open_text, so gzip, BOM and newline handling are too.
_FD, _PATH = tempfile.mkstemp(suffix=".fa", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
os.close(_FD)


def test_one_input(data: bytes) -> None:
    with open(_PATH, "wb") as fh:
        fh.write(data)
    try:
        for rec in parse_fasta(_PATH, warn=lambda message: None):
            assert rec.id and rec.id.split() == [rec.id], rec.id
            assert len(rec.codes) == len(rec.sequence) > 0
    except InputError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    try:
        atheris.Fuzz()
    finally:
        os.unlink(_PATH)


if __name__ == "__main__":
    main()
