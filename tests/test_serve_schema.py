"""Property-based tests of the web service against its own OpenAPI schema (schemathesis): no 5xx, answers as documented."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance  # noqa: E402

from sspred.model import load_model  # noqa: E402
from sspred.serve import Limits, create_app  # noqa: E402

#: Small limits, so generated inputs reach every limit and its 413 answer.
LIMITS = Limits(max_request_bytes=4000, max_residues=500, max_sequences=5)
#: The operations the service documents, named as schemathesis labels them. The test ids need them before any
#: model is loaded (collection imports this file); test_every_operation_is_tested keeps the list whole.
PREDICT = [f"{method} /api/predict{suffix}" for suffix in ("", ".json", ".ss2", ".horiz") for method in ("POST", "GET")]
#: Operations that take no input at all: no negative case exists for them.
NO_INPUT = ["GET /healthz", "GET /api/info"]
OPERATIONS = PREDICT + NO_INPUT
CASES = [(label, GenerationMode.POSITIVE) for label in OPERATIONS] + [(label, GenerationMode.NEGATIVE)
                                                                       for label in PREDICT]


@pytest.fixture(scope="module")
def api_schema():
    """The schema of an app over the shipped default model, built when a test first needs it (not at import:
    collecting the quick tier loads no model). schemathesis.pytest.from_fixture fails under pytest 9, so the
    cases are drawn by Hypothesis from each operation's strategy instead of by schema.parametrize()."""
    app = create_app(model=load_model("default"), limits=LIMITS)
    # 413 is how this service rejects a body past a documented size (maxItems, maxLength): a rejection.
    config = schemathesis.Config.from_dict({"checks": {"negative_data_rejection": {
        "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]}}})
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


@schemathesis.serializer("application/x-fasta")
def fasta_text(ctx, value) -> bytes:
    """FASTA under its application/ media type goes on the wire as text, as schemathesis sends text/*."""
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


def test_every_operation_is_tested(api_schema):
    assert sorted(r.ok().label for r in api_schema.get_all_operations()) == sorted(OPERATIONS)


def conforms(case) -> None:
    """``case`` sent to the app: no 5xx, and the answer as the schema documents it."""
    # Every built-in check but one: a schema cannot say that a FASTA text is well formed, nor that a body
    # holds at most max_residues residues, so a schema-valid request may rightly get 422 or 413.
    excluded = [positive_data_acceptance]
    if case.media_type not in (None, "application/json") and not isinstance(case.body, str):
        # A "non-string" FASTA body (schemathesis' type mutation) goes on the wire as its JSON text, e.g.
        # null -> "null": a string again, and here a valid sequence (N, U, L, L). Still no 5xx allowed.
        excluded.append(negative_data_rejection)
    response = case.call_and_validate(excluded_checks=excluded)
    assert response.status_code < 500


@pytest.mark.parametrize("label,mode", CASES, ids=[f"{label}-{mode.value}" for label, mode in CASES])
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_api_conforms_to_its_schema(api_schema, label, mode, data):
    """Random requests (schemathesis' fuzzing phase), valid and invalid."""
    conforms(data.draw(api_schema.find_operation_by_label(label).as_strategy(mode)))


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_conforms_on_the_schema_boundaries(api_schema, label):
    """schemathesis' coverage phase: each parameter at and past its documented limits (lengths, counts, enums,
    missing and wrongly typed values), valid and invalid."""
    operation = api_schema.find_operation_by_label(label)
    generation = api_schema.config.generation_for(operation=operation, phase="coverage")
    cases = list(api_schema.iter_coverage_cases(operation, generation_modes=list(GenerationMode),
                                                generation_config=generation))
    assert cases
    for case in cases:
        conforms(case)
