"""``/api/v1/messages/{id}/triage``: an agent corrects a message's triage in one click."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from filrouge.core.access import access_message_by_id
from filrouge.core.actions.triage_corrections import TriageLabels, correct_triage
from filrouge.core.models import MessageTriage, User
from filrouge.db import transaction
from filrouge.web.deps import Allowed, FactoryDep, SettingsDep
from filrouge.web.schemas import IdPath, TriageCorrected, TriageCorrection, TriagePublic

router = APIRouter(prefix="/messages", tags=["triage"])


@router.patch("/{message_id}/triage", response_model=TriageCorrected)
def patch_triage(
    message_id: IdPath,
    body: TriageCorrection,
    factory: FactoryDep,
    settings: SettingsDep,
    user: Annotated[User, Allowed("messages:triage")],
) -> TriageCorrected:
    """Set the right type, sentiment or language of a customer's message (at least one); the
    classifier's answer is kept, the priority worked out again, and retraining learns from it.
    A message outside the conversations you may see: 404."""
    labels = TriageLabels(language=body.language, type=body.type, sentiment=body.sentiment)
    with transaction(factory) as session:
        message = access_message_by_id(session, user, message_id)
        row = correct_triage(session, message, labels, user, settings.data_dir, settings.languages)
        session.flush()
        return triage_corrected(row)


def triage_corrected(row: MessageTriage) -> TriageCorrected:
    return TriageCorrected(
        message_id=row.message_id,
        triage=TriagePublic.model_validate(row.as_dict()),
        corrected=row.corrected,
        corrected_by_id=row.corrected_by_id,
        corrected_at=row.corrected_at,
        predicted=row.predicted,
    )
