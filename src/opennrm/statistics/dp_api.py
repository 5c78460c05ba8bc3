"""Differentially private counts through the API (`POST /api/v1/statistics/private-counts`):
the analyst's page's question and answer, for an analyst's token with the `statistics:query`
scope. The page's form checks the question and the page's service answers it and charges the
budget (one `statistics.dp_query` audit event); a question over the budget is refused with 422
naming `epsilon`, and nothing is charged. Counts only: never a person or a free-text field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from opennrm.accounts.actor import actor_of
from opennrm.api.schemas import AUTH_ERRORS, ErrorsOut, field_errors_out, refusal
from opennrm.lib.govuk_forms import date_input

from . import dp, selectors, services
from .dp_views import DpQueryForm

router = Router(tags=["Statistics"])


class PrivateCountIn(Schema):
    model_config = ConfigDict(extra="forbid")

    start: date = Field(
        description="The first day of the period (referrals submitted from), today or earlier"
    )
    end: date = Field(
        description="The last day of the period, the same as or after `start`, today or earlier"
    )
    dimensions: list[str] = Field(
        description="1 to 3 ways to split the count: " + ", ".join(dp.DIMENSIONS)
    )
    epsilon: Decimal = Field(
        description=f"The epsilon to spend, {dp.EPSILON_MIN} to {dp.EPSILON_MAX}, at most 2 "
        "decimal places; charged to the analyst's budget for the month"
    )


class CellOut(Schema):
    categories: dict[str, str] = Field(description="Each dimension's category code in this cell")
    labels: dict[str, str] = Field(description="Each dimension's category, in words")
    count: int = Field(description="The count with noise, as released: it may be below 0")
    low: int = Field(description="The lower end of the 95% interval (0 at least)")
    high: int = Field(description="The upper end of the 95% interval")


class BudgetOut(Schema):
    period: str = Field(description="The budget period, a calendar month: YYYY-MM")
    total: Decimal
    spent: Decimal = Field(description="Spent in the period, this question included")
    left: Decimal


class PrivateCountOut(Schema):
    description: str
    epsilon: Decimal = Field(description="The epsilon this question spent")
    mechanism: str = Field(description="'discrete_laplace'")
    scale: float = Field(description="The noise's scale, 1/epsilon")
    confidence: float = Field(description="The intervals' confidence level: 0.95")
    cells: list[CellOut] = Field(
        description="Every combination of the dimensions' categories, empty ones included"
    )
    budget: BudgetOut


@router.post(
    "/statistics/private-counts",
    url_name="statistics_private_counts",
    operation_id="statistics_private_count",
    summary="Ask a differentially private count of referrals",
    response={200: PrivateCountOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut, 409: ErrorsOut},
)
def private_count(request: HttpRequest, body: PrivateCountIn) -> Status[Any]:
    """Count the referrals submitted in the period, split by 1 to 3 dimensions, with noise
    from the discrete Laplace mechanism (a referral is the unit protected; ADR 0035), each cell
    with its 95% interval, exactly as the analyst's page does. The epsilon is charged to the
    token member's budget for the calendar month; 422 naming `epsilon` when too little is left
    (nothing is then charged), or naming the field of any other problem with the question
    (a day after today among them)."""
    actor = actor_of(request)
    selectors.analyst_organisation(actor)
    form = DpQueryForm(
        {
            **date_input("start", body.start),
            **date_input("end", body.end),
            "dimensions": body.dimensions,
            "epsilon": str(body.epsilon),
        }
    )
    if not form.is_valid():
        return Status(422, field_errors_out(form.errors))
    try:
        result = services.dp_query_answer(by=actor, query=form.query())
    except ValidationError as error:
        return refusal(error)
    answer = result.answer
    keys = answer.query.dimensions
    return Status(
        200,
        PrivateCountOut(
            description=answer.query.describe(),
            epsilon=answer.query.epsilon,
            mechanism="discrete_laplace",
            scale=answer.scale,
            confidence=1 - dp.ALPHA,
            cells=[
                CellOut(
                    categories=dict(zip(keys, cell.categories, strict=True)),
                    labels=dict(zip(keys, cell.labels, strict=True)),
                    count=cell.noisy,
                    low=cell.low,
                    high=cell.high,
                )
                for cell in answer.cells
            ],
            budget=BudgetOut(
                period=result.budget.period,
                total=result.budget.total,
                spent=result.budget.spent,
                left=result.budget.left,
            ),
        ),
    )
