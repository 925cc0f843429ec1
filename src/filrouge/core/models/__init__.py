"""Every model, importable from one place (Alembic reads ``Base.metadata`` from here)."""

from filrouge.core.models.agent import (
    ApiToken,
    CannedResponse,
    ContributorOffer,
    Invitation,
    LoginFailure,
    Team,
    User,
    WebSession,
    team_members,
)
from filrouge.core.models.automation import AutomationRule, AutomationRun, Macro
from filrouge.core.models.base import Base
from filrouge.core.models.callback import CallbackRequest
from filrouge.core.models.conversation import Conversation, ConversationTag, ThreadKey
from filrouge.core.models.customer import Customer, Identity
from filrouge.core.models.duplicate import DuplicateSuggestion
from filrouge.core.models.event import Event
from filrouge.core.models.message import Attachment, Message
from filrouge.core.models.notification import Notification
from filrouge.core.models.order import Order
from filrouge.core.models.report import ReportConversation, ReportOtherChannel
from filrouge.core.models.segment import CustomField, Segment
from filrouge.core.models.sla import SlaOutcome, SlaPolicy
from filrouge.core.models.survey import Survey
from filrouge.core.models.triage import MessageTriage
from filrouge.core.models.webhook import EarlyReceipt, WebhookDelivery
from filrouge.core.models.workspace import ChannelAccount, FormSubmission, Workspace

__all__ = [
    "ApiToken",
    "Attachment",
    "AutomationRule",
    "AutomationRun",
    "Base",
    "CallbackRequest",
    "CannedResponse",
    "ChannelAccount",
    "ContributorOffer",
    "Conversation",
    "ConversationTag",
    "CustomField",
    "Customer",
    "DuplicateSuggestion",
    "EarlyReceipt",
    "Event",
    "FormSubmission",
    "Identity",
    "Invitation",
    "LoginFailure",
    "Macro",
    "Message",
    "MessageTriage",
    "Notification",
    "Order",
    "ReportConversation",
    "ReportOtherChannel",
    "Segment",
    "SlaOutcome",
    "SlaPolicy",
    "Survey",
    "Team",
    "ThreadKey",
    "User",
    "WebSession",
    "WebhookDelivery",
    "Workspace",
    "team_members",
]
