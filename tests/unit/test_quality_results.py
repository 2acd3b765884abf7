"""From a GX suite validation result to quality.results rows (pure: real GX result objects, no Spark)."""

from __future__ import annotations

from datetime import datetime

import great_expectations.expectations as gxe
import pytest
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult, ExpectationValidationResult,
)

from quality.results import ExpectationOutcome, outcomes_from
from quality.expect import critical, warning

pytestmark = pytest.mark.unit

AT = datetime(2026, 2, 1, 9, 30)


def _result(exp, success: bool, result: dict, exception: dict | None = None) -> ExpectationValidationResult:
    return ExpectationValidationResult(success=success, expectation_config=exp.configuration, result=result,
                                       exception_info=exception or {"raised_exception": False})


def test_each_expectation_becomes_one_row_with_counts_and_observed_value():
    unique = critical(gxe.ExpectColumnValuesToBeUnique, column="unique_id")
    rows = critical(gxe.ExpectTableRowCountToBeBetween, name="not empty when silver is not", min_value=1)
    url = warning(gxe.ExpectColumnValuesToMatchRegex, column="image_src", regex="^https?://")
    query = critical(gxe.UnexpectedRowsExpectation, name="provenance present",
                     unexpected_rows_query="SELECT * FROM {batch} WHERE source_offset IS NULL")
    broken = critical(gxe.ExpectColumnValuesToNotBeNull, column="ind")
    validation = ExpectationSuiteValidationResult(success=False, suite_name="silver.pins", results=[
        _result(unique, False, {"element_count": 4, "unexpected_count": 2, "partial_unexpected_list": ["a", "a"]}),
        _result(rows, True, {"observed_value": 4}),
        _result(url, False, {"element_count": 4, "unexpected_count": 1, "partial_unexpected_list": ["ftp://x"]}),
        _result(query, True, {"observed_value": 0}),
        _result(broken, False, {}, {"raised_exception": True, "exception_message": "no column ind"}),
    ])

    outcomes = outcomes_from(validation, "silver.pins", "run-7", AT)

    def row(name, severity, success, elements, unexpected, observed):
        return ExpectationOutcome("run-7", "silver.pins", "silver.pins", name, severity, success, elements,
                                  unexpected, observed, AT)

    assert outcomes == [
        row("expect_column_values_to_be_unique(unique_id)", "critical", False, 4, 2, 'unexpected e.g. ["a", "a"]'),
        row("not empty when silver is not", "critical", True, 4, None, "4"),
        row("expect_column_values_to_match_regex(image_src)", "warning", False, 4, 1, 'unexpected e.g. ["ftp://x"]'),
        row("provenance present", "critical", True, 4, 0, "0"),
        row("expect_column_values_to_not_be_null(ind)", "critical", False, 4, None, "error: no column ind"),
    ]
    assert [o.critical_failure for o in outcomes] == [True, False, False, False, True]
