"""The service's JSON shapes, as pydantic models: they validate requests and write the OpenAPI schema."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from sspred.alphabet import AMBIGUOUS, AMINO_ACIDS
from sspred.io.fasta import GAP_CHARS

#: Answer formats a client may ask for (see sspred.serve.app.FORMATS).
FormatName = Literal["json", "ss2", "horiz"]
#: Longest record id accepted in JSON; FASTA ids are the header's first word.
MAX_ID_CHARS = 100
#: Residue letters accepted, either case.
LETTERS = AMINO_ACIDS + "".join(AMBIGUOUS)
#: What a sequence string may hold: at least one residue letter, whitespace, gap characters (removed) and
#: one trailing '*'. Documented in the schema; enforced by sspred.features.encode, whose errors name the position.
_RES, _SKIP = LETTERS + LETTERS.lower(), r"\s" + re.escape(GAP_CHARS)
SEQUENCE_PATTERN = rf"^[{_SKIP}]*[{_RES}][{_RES}{_SKIP}]*\*?\s*$"


class SequenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Optional[str] = Field(None, min_length=1, max_length=MAX_ID_CHARS, pattern=r"^\S+$",
                              description="Record id; seq1, seq2, ... when left out.", examples=["1ubq_A"])
    sequence: str = Field(..., description="Protein sequence in one-letter codes. Whitespace and the gap "
                          "characters '-' and '.' are removed; one trailing '*' is allowed.",
                          json_schema_extra={"pattern": SEQUENCE_PATTERN},
                          examples=["MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"])


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sequences: list[SequenceIn] = Field(..., min_length=1, description="Sequences to predict, in order.")


class ModelInfo(BaseModel):
    name: str = Field(..., description="Model name, from its file.")
    state_order: str = Field(..., description="State letters, in the order of each probability row (CHE or HGIEBTSC).")
    states: str = Field(..., description="Deprecated: `state_order` under its old name, kept for one release.")
    window: int = Field(..., description="Residues per input window.")
    checksum: str = Field(..., description="SHA-256 of the model's weights: identifies this exact version of it.")
    trained_on: Optional[str] = Field(None, description="Training data set, as recorded in the model file.")
    sspred_version: str = Field(..., description="Version of the sspred package serving it.")


class Prediction(BaseModel):
    id: str
    sequence: str = Field(..., description="The residues predicted: cleaned, upper case.")
    states: str = Field(..., description="One predicted state letter per residue.")
    confidence: str = Field(..., description="PSIPRED-style confidence digit 0-9 per residue: "
                            "floor(10 * (top probability - second)).")
    probabilities: list[list[float]] = Field(..., description="Per residue, one probability per state, in the "
                                             "order of `state_order` of the response.")
    disorder: Optional[list[float]] = Field(None, description="Per residue, P(disordered), rounded as the "
                                            "probabilities; only from a model with a disorder head.")
    conservation: Optional[list[int]] = Field(None, description="Per residue, the most probable conservation class, "
                                              "1 (variable) to 9 (conserved); only from a model with a "
                                              "conservation head.")
    ss8: Optional[str] = Field(None, description="Per residue, the most probable of the 8 DSSP states (HGIEBTSC) "
                               "from the 8-state head of a 3-state model; only from a model with an ss8 head (an "
                               "8-state model gives them in `states`).")
    ss8_probabilities: Optional[list[list[float]]] = Field(None, description="Per residue, the ss8 head's 8 "
                                                           "probabilities in HGIEBTSC order, rounded as the "
                                                           "probabilities.")


class PredictResponse(BaseModel):
    model: ModelInfo
    state_order: str = Field(..., description="State letters in probability-column order.")
    states: str = Field(..., description="Deprecated: `state_order` under its old name, kept for one release.")
    predictions: list[Prediction]
    warnings: list[str] = Field(..., description="Changes made to the input, e.g. gap characters removed.")


class Limits(BaseModel):
    max_request_bytes: int
    max_residues: int
    max_sequences: int


class Info(BaseModel):
    model: ModelInfo
    limits: Limits
    formats: list[str]


class Health(BaseModel):
    status: Literal["ok"]
    model: str


class ErrorDetail(BaseModel):
    type: Literal["invalid_input", "invalid_request", "limit_exceeded", "unsupported_media_type",
                  "unsupported_format", "internal_error"]
    message: str = Field(..., description="What went wrong, in plain words.")
    limit: Optional[str] = Field(None, description="For limit_exceeded: the limit's name (a --max-* option).")
    maximum: Optional[int] = Field(None, description="For limit_exceeded: the limit's value.")
    actual: Optional[int] = Field(None, description="For limit_exceeded: the size seen, where known.")
    record: Optional[str] = Field(None, description="For invalid_input: the record at fault.")
    position: Optional[int] = Field(None, description="For invalid_input: 1-based residue position in it.")
    line: Optional[int] = Field(None, description="For invalid_input: 1-based line of the FASTA text.")


class ErrorResponse(BaseModel):
    error: ErrorDetail
