"""Coverage-guided fuzzing of the FASTA reader (atheris / libFuzzer). See fuzz/README.md.

Property: for any bytes, parse_fasta either yields records whose id is one
whitespace-free word and whose codes match the sequence, or raises InputError.
Any other exception is a crash that libFuzzer saves as crash-<hash>.
"""

import atheris
from harness import run, scratch_file, write

with atheris.instrument_imports(include=["sspred"]):
    from sspred.errors import InputError
    from sspred.io.fasta import parse_fasta

# One file rewritten per input: parse_fasta is fuzzed through open_text, so gzip, BOM and newline handling are too.
_PATH = scratch_file(".fa")


def test_one_input(data: bytes) -> None:
    write(_PATH, data)
    try:
        for rec in parse_fasta(_PATH, warn=lambda message: None):
            assert rec.id and rec.id.split() == [rec.id], rec.id
            assert len(rec.codes) == len(rec.sequence) > 0
    except InputError:
        pass


if __name__ == "__main__":
    run(test_one_input)
