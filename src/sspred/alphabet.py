"""Residue and state alphabets: the one home of these constants.

Input encoding follows Qian & Sejnowski (1988): each window position is a
21-unit vector, one unit per standard amino acid plus one "spacer" unit that
is on for positions past either end of the chain.

Residues outside the 20 standard ones keep the chain length and are encoded
as fractional vectors over the standard units, so the first layer stays
linear in its input and the lookup-table fast path stays exact:

    X (unknown)         1/20 on each of the 20 amino acids
    B (Asx)             1/2 D + 1/2 N
    Z (Glx)             1/2 E + 1/2 Q
    J (Xle)             1/2 I + 1/2 L
    U (selenocysteine)  C, its closest standard analogue
    O (pyrrolysine)     K, from which it is derived
"""

from __future__ import annotations

import numpy as np

#: The 20 standard amino acids, in the order of the input units.
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
#: Index of the spacer unit (positions past either end of the chain).
SPACER = len(AMINO_ACIDS)
#: Units per window position: 20 amino acids and the spacer.
N_UNITS = SPACER + 1

#: Non-standard residue letters, appended after the spacer as codes.
AMBIGUOUS = {
    "X": {aa: 1.0 / 20 for aa in AMINO_ACIDS},
    "B": {"D": 0.5, "N": 0.5},
    "Z": {"E": 0.5, "Q": 0.5},
    "J": {"I": 0.5, "L": 0.5},
    "U": {"C": 1.0},
    "O": {"K": 1.0},
}
#: Every symbol code: 20 amino acids, the spacer (written "-" in windows), then the ambiguous letters.
SYMBOLS = AMINO_ACIDS + "-" + "".join(AMBIGUOUS)
N_SYMBOLS = len(SYMBOLS)


def _encoding_matrix() -> np.ndarray:
    enc = np.zeros((N_SYMBOLS, N_UNITS), dtype=np.float64)  # (symbols, units)
    for code in range(N_UNITS):
        enc[code, code] = 1.0
    for offset, weights in enumerate(AMBIGUOUS.values()):
        for aa, w in weights.items():
            enc[N_UNITS + offset, AMINO_ACIDS.index(aa)] = w
    enc.setflags(write=False)
    return enc


#: Row c is the input vector of symbol code c, shape (N_SYMBOLS, N_UNITS).
ENCODING = _encoding_matrix()

#: Residue letter (upper case) to symbol code; 255 marks a letter we do not accept.
RESIDUE_CODE = np.full(256, 255, dtype=np.uint8)
for _code, _letter in enumerate(SYMBOLS):
    if _letter != "-":
        RESIDUE_CODE[ord(_letter)] = _code
        RESIDUE_CODE[ord(_letter.lower())] = _code
RESIDUE_CODE.setflags(write=False)

#: 3-state order. C, H, E is PSIPRED's column order in .ss2 files, so probabilities are written as stored.
STATES3 = "CHE"
#: The 8 DSSP states; "C" stands for coil (DSSP's blank) and comes last.
STATES8 = "HGIEBTSC"

#: The common 8-to-3 reduction (NetSurfP, ProtTrans; see shared/data/README.md):
#: H, G, I -> H; E, B -> E; everything else -> C.
DSSP8_TO_3 = {"H": "H", "G": "H", "I": "H", "E": "E", "B": "E",
              "T": "C", "S": "C", "C": "C", "L": "C", "P": "C", "-": "C", " ": "C"}
#: Letters some sets use for DSSP coil variants, folded into 8-state "C":
#: L (loop) and P (polyproline II, DSSP 4) and "-" (blank).
DSSP8_ALIASES = {"L": "C", "P": "C", "-": "C", " ": "C"}

#: Label value for a residue that is neither trained on nor scored.
MASKED = -1

#: Disorder targets per residue. NetSurfP-2.0 (Klausen 2019) trained on unresolved residues as disordered:
#: netsurfp2's mask.fasta 0 and the CB513/TS115 ``disorder`` column 0 are DISORDERED.
DISORDERED = 1
ORDERED = 0
#: A residue whose set says nothing about disorder; neither trained on nor scored (the value of MASKED).
DISORDER_UNKNOWN = MASKED

#: Conservation classes run 1 (most variable) to 9 (most conserved), as ConSurf grades them and the FLIP
#: conservation set (Marquet et al. 2021) writes them; 0 marks a residue without a class.
CONSERVATION_CLASSES = 9
CONSERVATION_UNKNOWN = 0

#: State sets keyed by the name used in configs and model files.
STATE_SETS = {"3": STATES3, "8": STATES8}

#: Matrix mapping 8-state indices to 3-state indices, shape (8,).
EIGHT_TO_THREE = np.array([STATES3.index(DSSP8_TO_3[s]) for s in STATES8], dtype=np.int8)
