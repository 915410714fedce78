"""`job_params()` in a batch job: typed params, a read-only mapping like Hyperctl's params dict."""

from __future__ import annotations

import pytest

from hypermetric.runtime.job_params import get_job_params, job_params


def test_a_batch_job_sees_its_params_with_their_json_types():
    env = {"HYPERMAKE_JOB_ID": "b?tol=100", "HYPERMAKE_JOB_NAME": "b", "HYPERMAKE_JOB_CASE_JSON": '{"tol":"100"}',
           "HYPERMAKE_JOB_ENV_VARS": "tol='100'", "HYPERMETRIC_JOB_PARAMS": '{"tol": 100, "lr": 0.5, "tags": ["a"]}'}
    params = get_job_params(env)
    assert params["tol"] == 100 and params["lr"] == 0.5 and params["tags"] == ["a"]
    assert dict(params) == {"tol": 100, "lr": 0.5, "tags": ["a"]} and len(params) == 3 and "lr" in params
    assert params.variables["tol"] == "100" and params.get("missing") is None
    with pytest.raises(TypeError):
        params.params["tol"] = 1  # read-only


def test_a_pipeline_job_keeps_text_values():
    env = {"HYPERMAKE_JOB_ID": "t", "HYPERMAKE_JOB_NAME": "t", "HYPERMAKE_JOB_CASE_JSON": '{"Tol":"1"}',
           "HYPERMAKE_JOB_ENV_VARS": "tol='1'"}
    params = job_params(env)
    assert params["tol"] == "1" and dict(params) == {"tol": "1", "Tol": "1"}


def test_params_that_are_not_an_object_are_refused():
    with pytest.raises(ValueError, match="expected a JSON object"):
        job_params({"HYPERMAKE_JOB_ID": "1", "HYPERMETRIC_JOB_PARAMS": "[1]"})
