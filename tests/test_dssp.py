"""sspred label: real mkdssp on the real structures in shared/data/structures."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from sspred import dssp
from sspred.alphabet import STATES3, STATES8
from sspred.errors import InputError
from sspred.io import datasets

pytestmark = [pytest.mark.skipif(shutil.which("mkdssp") is None, reason="mkdssp (Debian dssp) not installed"),
              pytest.mark.slow]  # mkdssp and sspred subprocesses

#: Hen egg-white lysozyme (UniProt P00698, mature chain), the protein of PDB 1AKI.
LYSOZYME = ("KVFGRCELAAAMKRHGLDNYRGYSLGNWVCAAKFESNFNTQATNRNTDGSTDYGILQINSRWWCNDGRTPGSRNLCNIPCSALLSSDITASVNCAKK"
            "IVSDGNGMNAWVAWRNRCKGTDVQAWIRGCRL")


def classic_columns(dssp_text: str) -> tuple[str, str]:
    """Residues and states straight from the classic table, read here without sspred's parser."""
    table = dssp_text.split("  #  RESIDUE", 1)[1].splitlines()[1:]
    aa = "".join(line[13] for line in table)
    ss = "".join(line[16] for line in table)
    return aa, ss


def test_1aki_matches_mkdssp_classic_output_residue_by_residue(cli, data_dir, tmp_path):
    src = data_dir / "structures/1aki.cif"
    raw = tmp_path / "1aki.dssp"
    subprocess.run(["mkdssp", "--output-format", "dssp", str(src), str(raw)], check=True, capture_output=True)
    aa, ss = classic_columns(raw.read_text())
    assert "!" not in aa and len(aa) == 129
    out = tmp_path / "1aki.txt"
    r = cli("label", str(src), "--out", str(out))
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == ">1aki_A"
    assert lines[1] == LYSOZYME
    # DSSP marks disulfide cysteines with paired lower-case letters; they are cysteines.
    assert all(b == "C" for a, b in zip(aa, lines[1]) if a.islower())
    assert sum(a.islower() for a in aa) == 8  # lysozyme's four disulfides
    for i, (want, got) in enumerate(zip(ss, lines[2]), start=1):
        assert got == ("C" if want == " " else want), f"residue {i}"
    # And sspred train reads it back: 8 states, and 3 states by the H,G,I->H; E,B->E reduction.
    chain = datasets.read_file(out)[0]
    assert "".join(STATES8[i] for i in chain.y8) == lines[2]
    h, e = set("HGI"), set("EB")
    assert "".join(STATES3[i] for i in chain.y3) == "".join("H" if s in h else "E" if s in e else "C"
                                                            for s in lines[2])


def test_pdb_and_mmcif_of_the_same_entry_give_the_same_labels(data_dir):
    for entry in ("1aki", "1l2y"):  # 1l2y.pdb needs the sanitised second try
        cif = dssp.label_structure(data_dir / f"structures/{entry}.cif").chains
        pdb = dssp.label_structure(data_dir / f"structures/{entry}.pdb").chains
        assert [(c.sequence, c.ss8) for c in cif] == [(c.sequence, c.ss8) for c in pdb]


def test_several_chains_and_states_3(cli, data_dir, tmp_path):
    out = tmp_path / "igy.txt"
    r = cli("label", str(data_dir / "structures/1igy.cif"), "--out", str(out), "--states", "3")
    assert r.returncode == 0, r.stderr
    chains = datasets.read_file(out)
    assert [c.id for c in chains] == ["1igy_A", "1igy_B", "1igy_C", "1igy_D"]
    assert all(c.y8 is None and set(np.unique(c.y3[c.y3 >= 0])) <= {0, 1, 2} for c in chains)
    # An antibody is mostly beta sheet.
    y = np.concatenate([c.y3 for c in chains])
    assert (y == STATES3.index("E")).mean() > (y == STATES3.index("H")).mean()


def test_breaks_become_unobserved_residues(tmp_path):
    # Two fragments of chain A: residues 1-2, then a break, then 6-7 (3, 4, 5 missing).
    def row(n, resnum, aa, ss):
        return f"{n:5d}{resnum:5d} A {aa}  {ss}" + " " * 20
    text = "\n".join(["header", "  #  RESIDUE AA STRUCTURE", row(1, 1, "M", "H"), row(2, 2, "K", " "),
                      "    3        !" + " " * 20, row(4, 6, "a", "E"), row(5, 7, "L", "P")])
    [c] = dssp.parse_dssp(text, "toy")
    assert (c.id, c.sequence, c.ss8) == ("toy_A", "MKXXXCL", "HCXXXEC")


def test_bad_files_are_reported_and_the_batch_goes_on(cli, data_dir, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not a structure\n")
    # 1aki with a second chain B of C-alpha atoms only: DSSP can label A but not B.
    lines = (data_dir / "structures/1aki.pdb").read_text().splitlines()
    ca = [l[:21] + "B" + l[22:30] + "%8.3f" % (float(l[30:38]) + 40) + l[38:]
          for l in lines if l.startswith("ATOM") and l[12:16] == " CA "]
    body = [l for l in lines if not l.startswith(("END", "MASTER", "CONECT"))]
    (tmp_path / "caonly.pdb").write_text("\n".join(body + ca + ["END"]) + "\n")
    out = tmp_path / "out.txt"
    r = cli("label", str(bad), str(tmp_path / "caonly.pdb"), str(data_dir / "structures/1l2y.cif"),
            "--out", str(out))
    assert r.returncode == 2
    assert "notes.txt: not a PDB or mmCIF structure" in r.stderr
    assert "chain caonly_B: no residue with a complete backbone" in r.stderr
    assert [c.id for c in datasets.read_file(out)] == ["caonly_A", "1l2y_A"]
    with pytest.raises(InputError, match="not a PDB or mmCIF"):
        dssp.label_structure(bad)


def test_missing_mkdssp_stops_before_any_file(cli, data_dir, tmp_path):
    out = tmp_path / "x.txt"
    r = cli("label", str(data_dir / "structures/1aki.cif"), "--out", str(out), env={"SSPRED_MKDSSP": "no-such-mkdssp"})
    assert r.returncode == 2 and "mkdssp not found" in r.stderr and not out.exists()
