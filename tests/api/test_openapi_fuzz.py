"""Property-based fuzzing of the whole API from its OpenAPI schema (Schemathesis).

Checks, on SQLite and PostgreSQL: no answer is a server error (valid and invalid data);
invalid input is rejected with a 4xx; operations that declare authentication refuse
requests without it; every status an operation answers is declared in the schema (issue 20).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth, negative_data_rejection, status_code_conformance

import factories as f

SKIP = {("POST", "/api/v1/auth/logout")}  # would end the session the fuzzer runs with
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 8}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_api_conforms_to_its_schema(app, client, db, mode):
    office = f.office(db, code="370305001")
    f.subject(db, office, status="under_correction")
    auth = f.login(client, f.staff(db, "bureau_officer").username)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = (not_a_server_error, negative_data_rejection, ignored_auth, status_code_conformance)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call(headers={**(case.headers or {}), **auth})
            case.validate_response(response, checks=checks)

        try:
            run()
        except Unsatisfiable:
            continue  # nothing to make invalid: the operation takes no input
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
