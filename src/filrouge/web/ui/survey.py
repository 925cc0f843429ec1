"""The public satisfaction survey: ``GET/POST /survey/{token}``, in the customer's language
(``?lang=en`` to switch), answered once before it expires.

No session, so no CSRF token: the link's token (32 random characters, kept only as a digest)
is the credential, and a page elsewhere cannot know it. A script that asks for JSON gets
``{"error": {...}}`` or the answer back.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from filrouge.core.actions.surveys import answer_survey, survey_by_token
from filrouge.core.errors import DomainError, Invalid, NotFound
from filrouge.core.models import Survey, Workspace
from filrouge.core.surveys import SurveyAnswer, policy_of
from filrouge.db import transaction
from filrouge.i18n import LOCALES, negotiate_locale
from filrouge.web.deps import FactoryDep
from filrouge.web.ui.templating import render

router = APIRouter(include_in_schema=False)
Lang = Annotated[str | None, Query(pattern="^(fr|en)$")]


@router.get("/survey/{token}")
def survey_page(request: Request, token: str, factory: FactoryDep, lang: Lang = None) -> Response:
    with transaction(factory) as session:
        try:
            survey = survey_by_token(session, _checked(token))
        except DomainError as error:
            return _refusal(request, error, lang)
        context = _context(session, survey)
    return render(request, "survey.html", context, locale=lang or context["survey_locale"])


@router.post("/survey/{token}")
def post_survey(
    request: Request,
    token: str,
    factory: FactoryDep,
    csat: Annotated[str, Form(max_length=2)] = "",
    nps: Annotated[str, Form(max_length=2)] = "",
    solved: Annotated[str, Form(max_length=3)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
    lang: Lang = None,
) -> Response:
    """Keep the answer; a rating out of range shows the form again with the reason."""
    wants_json = "application/json" in request.headers.get("accept", "")
    with transaction(factory) as session:
        try:
            survey = survey_by_token(session, _checked(token))
            context = _context(session, survey)
            answer_survey(session, token, _answer(csat, nps, solved, comment))
        except DomainError as error:
            if wants_json:
                return _json_refusal(request, error, lang)
            if isinstance(error, Invalid) and error.field in ("csat", "nps"):
                page = {**context, "error": error, "typed": {"comment": comment}}
                locale = lang or context["survey_locale"]
                return render(request, "survey.html", page, status=422, locale=locale)
            return _refusal(request, error, lang)
        context = _context(session, survey)
    if wants_json:
        return JSONResponse({"answered": True, "csat": survey.csat}, status_code=201)
    return render(request, "survey.html", context, locale=lang or context["survey_locale"])


def _answer(csat: str, nps: str, solved: str, comment: str) -> SurveyAnswer:
    try:
        return SurveyAnswer(
            csat=int(csat) if csat.strip().isdigit() else 0,
            nps=int(nps) if nps.strip().isdigit() else None,
            solved_first_contact={"yes": True, "no": False}.get(solved),
            comment=comment or None,
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        if field == "nps":
            raise Invalid("nps_out_of_range", "Choose a score from 0 to 10.", field="nps") from exc
        raise Invalid("csat_required", "Choose a rating from 1 to 5.", field="csat") from exc


def _checked(token: str) -> str:
    if not 8 <= len(token) <= 64 or not token.replace("-", "").replace("_", "").isalnum():
        raise NotFound("survey_not_found", "This survey link is not valid.")
    return token


def _context(session: Session, survey: Survey) -> dict[str, Any]:
    workspace = session.get_one(Workspace, survey.workspace_id)
    return {
        "survey": survey,
        "workspace_name": workspace.name,
        "ask_nps": policy_of(workspace.settings).ask_nps,
        "survey_locale": survey.locale if survey.locale in LOCALES else "fr",
    }


def _refusal(request: Request, error: DomainError, lang: str | None) -> Response:
    return render(request, "survey.html", {"refusal": error}, status=error.status, locale=lang)


def _json_refusal(request: Request, error: DomainError, lang: str | None) -> Response:
    locale = lang or negotiate_locale(request.headers.get("accept-language"))
    body: dict[str, Any] = {"code": error.code, "message": error.message_in(locale)}
    if error.field:
        body["field"] = error.field
    return JSONResponse({"error": body}, status_code=error.status)
