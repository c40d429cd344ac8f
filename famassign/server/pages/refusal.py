"""A request the plan page refuses: shown on the plan page with the rule broken and why."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import Response

from famassign.models.errors import FamassignError
from famassign.server.pages.frame import render
from famassign.server.pages.views import plan_context
from famassign.server.planner import PlanRecord

log = logging.getLogger(__name__)


class Refused(FamassignError):
    """A move the evaluator refuses: the rules broken and its words."""

    def __init__(self, rules: str, messages: list[str]) -> None:
        self.rules, self.messages = rules, messages
        super().__init__(rules)


def refuse(
    request: Request, record: PlanRecord, message: list[str] | str, rule: str = ""
) -> Response:
    """The plan page of `record` at its adjust step, with the refusal: `rule` and `message`."""
    context = {"step": "adjust", **plan_context(request, record)}
    context["refusal"] = {
        "rule": rule,
        "messages": [message] if isinstance(message, str) else message,
    }
    log.info("adjustment of plan %s refused", record.id)
    return render(request, "plan.html", context)


__all__ = ["Refused", "refuse"]
