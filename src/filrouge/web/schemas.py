"""API shapes, apart from the ORM models: ``XCreate`` in, ``XPublic`` out."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
)

from filrouge.core.models.enums import (
    ChannelKind,
    ConversationStatus,
    IdentityKind,
    OrderChannel,
    OrderStatus,
    Priority,
    Visibility,
)

T = TypeVar("T")
MAX_ID = 2**63 - 1  # ids are 64-bit integers in the database


def clean_text(value: Any) -> Any:
    """Refuse text that no database can store: NUL characters and lone surrogates."""
    if isinstance(value, str):
        surrogates = not value.isascii() and any("\ud800" <= c <= "\udfff" for c in value)
        if "\x00" in value or surrogates:
            raise ValueError("contains a NUL character or an invalid Unicode code point")
    elif isinstance(value, list | tuple):
        for item in value:
            clean_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            clean_text(key)
            clean_text(item)
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
TextQuery = Annotated[str | None, Query(max_length=200), AfterValidator(clean_text)]


class Strict(BaseModel):
    """Input shapes: unknown fields are refused, and so is text no database can store."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return clean_text(value)


class PagePublic(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class ChannelCreate(Strict):
    kind: ChannelKind
    name: str = Field(min_length=1, max_length=200)
    settings: dict[str, Any] = Field(default_factory=dict)


class ChannelPublic(BaseModel):
    id: int
    kind: str
    name: str
    settings: dict[str, Any]
    active: bool
    created_at: datetime
    needs_reconnection: bool = Field(
        default=False, description="The provider refused the channel's credentials."
    )
    reconnection_reason: str | None = None
    webhook_path: str | None = Field(
        default=None, description="Where the provider delivers its webhooks (kinds that have)."
    )


class WebhookDeliveryPublic(BaseModel):
    id: int
    outcome: str = Field(
        description="pending, processed, unsupported, unreadable, or erased (the body was emptied "
        "when a customer it named was erased)"
    )
    received_at: datetime
    processed_at: datetime | None
    content_type: str
    size: int
    summary: dict[str, Any] | None


class ChannelCreated(ChannelPublic):
    inbound_token: str = Field(description="Shown once: authenticates this channel's hooks.")


class SenderIn(Strict):
    kind: IdentityKind = Field(examples=["email"])
    value: str = Field(min_length=1, max_length=320, examples=["jeanne.martin@example.fr"])
    name: str | None = Field(default=None, max_length=300)
    verified: bool = False


class AttachmentIn(Strict):
    filename: str = Field(min_length=1, max_length=500)
    content_type: str = Field(default="application/octet-stream", max_length=200)
    content_base64: str | None = None
    url: str | None = Field(default=None, max_length=4000)


class InboundCreate(Strict):
    channel_id: Id
    provider_message_id: str | None = Field(default=None, max_length=500)
    sender: SenderIn
    text: str = ""
    html: str | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=50)
    thread_key: str | None = Field(default=None, max_length=500)
    in_reply_to: str | list[str] | None = None
    visibility: Visibility = Visibility.PRIVATE
    occurred_at: AwareDatetime | None = None
    subject: str | None = Field(default=None, max_length=500)


class InboundAccepted(BaseModel):
    message_id: int
    conversation_id: int
    customer_id: int
    duplicate: bool


class InboundBatch(Strict):
    items: list[InboundCreate] = Field(min_length=1, max_length=500)


class ErrorPublic(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    """Every error the API returns: ``{"error": {"code", "message", "field"?}}``."""

    error: ErrorPublic


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "Malformed body (not JSON, not UTF-8).",
        401: "Missing, unknown or revoked API token.",
        403: "The token's role does not allow this.",
        404: "Nothing with this id that you may see.",
        409: "Conflicts with the current state.",
        413: "Body, text, HTML or attachment over the limit.",
        422: "A field is missing or invalid; `field` names it.",
    }.items()
}


class InboundBatchItem(BaseModel):
    """Either the stored message's ids, or the reason it was refused."""

    message_id: int | None = None
    conversation_id: int | None = None
    customer_id: int | None = None
    duplicate: bool | None = None
    error: ErrorPublic | None = None


class InboundBatchResult(BaseModel):
    items: list[InboundBatchItem]


class AttachmentPublic(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int | None
    url: str | None


class TriagePublic(BaseModel):
    """What triage says about a customer's message (docs/TRIAGE.md); a person may have
    corrected the language, type and sentiment."""

    language: str = Field(examples=["fr"])
    type: Literal["question", "complaint", "compliment", "information", "purchase_intent", "other"]
    sentiment: Literal["negative", "neutral", "positive"]
    sentiment_score: float = Field(ge=-1, le=1, description="P(positive) − P(negative).")
    priority: Literal["low", "normal", "high", "urgent"]
    signals: list[str] = Field(examples=[["threat_to_leave", "public"]])


class TriageCorrection(Strict):
    """One click of an agent: the labels that are right (at least one)."""

    type: (
        Literal["question", "complaint", "compliment", "information", "purchase_intent", "other"]
        | None
    ) = None
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    language: str | None = Field(default=None, min_length=2, max_length=8, examples=["en"])


class TriageCorrected(BaseModel):
    message_id: int
    triage: TriagePublic
    corrected: bool
    corrected_by_id: int | None
    corrected_at: datetime | None
    predicted: dict[str, Any] | None = Field(
        description="The classifier's own labels, kept from before the first correction."
    )


class MessagePublic(BaseModel):
    id: int
    conversation_id: int
    direction: Literal["inbound", "outbound", "note"]
    channel_id: int
    text: str
    html: str | None
    attachments: list[AttachmentPublic]
    status: str
    visibility: str
    author: dict[str, Any] | None
    signed_by_id: int | None
    provider_message_id: str | None
    in_reply_to_id: int | None
    error: str | None
    flag: Literal["auto_reply", "bounce", "bulk", "unreadable", "system", "automatic"] | None = (
        Field(
            None,
            description="Set on messages no person wrote (system: the network's notice; "
            "automatic: ours, such as a satisfaction survey), and on mail that could not be read.",
        )
    )
    details: dict[str, Any] | None = Field(
        None, description="A contact logged by hand: duration_minutes, store, outcome."
    )
    triage: TriagePublic | None = Field(
        None,
        description="A customer's message: its language, type, sentiment, priority and "
        "signals; null for our messages and notes (and one not triaged yet).",
    )
    created_at: datetime


class ChannelSwitchPublic(BaseModel):
    at: datetime
    from_channel_id: int | None
    to_channel_id: int | None
    message_id: int | None


class ConversationPublic(BaseModel):
    id: int
    customer_id: int
    status: str
    channel_id: int
    origin_channel_id: int
    assignee_id: int | None
    team_id: int | None
    priority: str
    tags: list[str]
    visibility: str
    subject: str | None
    first_inbound_at: datetime | None
    first_response_at: datetime | None
    last_activity_at: datetime
    resolved_at: datetime | None
    created_at: datetime
    linked_conversation_id: int | None = Field(
        default=None,
        description="A public thread's private continuation, or the public post a private "
        "conversation answers.",
    )


class ConversationDetail(ConversationPublic):
    messages: list[MessagePublic]
    channel_switches: list[ChannelSwitchPublic]
    customer: CustomerPublic
    reply_channel_ids: list[int]


class ConversationUpdate(Strict):
    status: ConversationStatus | None = None
    priority: Priority | None = None
    assignee_id: Id | None = None
    team_id: Id | None = None
    tags: list[str] | None = Field(default=None, max_length=50)


class ReplyAttachmentIn(Strict):
    """One file sent with a reply, its bytes in base64."""

    filename: str = Field(min_length=1, max_length=500, examples=["colis-abime.jpg"])
    content_type: str = Field(
        default="application/octet-stream",
        max_length=200,
        examples=["image/jpeg"],
        description="A hint only: the stored type comes from the bytes and the file name.",
    )
    content_base64: str = Field(
        description="The file, base64 (standard alphabet; invalid: 422 `invalid_base64`). At "
        "most FILROUGE_MAX_ATTACHMENT_BYTES (default 25 MiB) once decoded: over it, 413 "
        "`attachment_too_large`.",
        examples=["/9j/4AAQSkZJRgABAQ…"],
    )


class ReplyCreate(Strict):
    text: str = Field(default="", max_length=64 * 1024)
    channel_id: Id | None = None
    template: TemplateIn | None = Field(
        default=None,
        description="One of the channel's templates (settings.templates), required once the "
        "messaging window has closed (WhatsApp, Messenger: 422 `window_closed` without).",
    )
    confirm_personal_data: bool = Field(
        default=False,
        description="Send a public reply that shows an email, a phone number, an order number "
        "or an IBAN all the same (else 422 `personal_data_in_public`).",
    )
    attachments: list[ReplyAttachmentIn] = Field(
        default_factory=list,
        description="Files sent with the reply (photos, videos, PDFs…): at most "
        "FILROUGE_MAX_REPLY_ATTACHMENTS (default 10; more: 422 `too_many_attachments`), none "
        "empty (422 `attachment_empty`). The whole request stays under "
        "FILROUGE_MAX_REQUEST_BYTES (default 40 MiB; over it: 413 `request_too_large`).",
    )


class TemplateIn(Strict):
    name: str = Field(min_length=1, max_length=512, examples=["suivi_commande"])
    parameters: list[str] = Field(default_factory=list, max_length=20)


class PrivateReplyCreate(Strict):
    public_text: str = Field(
        default="",
        max_length=64 * 1024,
        description="A short public acknowledgement under the post (may be empty).",
        examples=["Nous vous répondons en message privé."],
    )
    text: str = Field(min_length=1, max_length=64 * 1024, description="The private message.")


class PrivateReplyCreated(BaseModel):
    public_reply: MessagePublic | None
    private_reply: MessagePublic
    private_conversation_id: int


class HiddenUpdate(Strict):
    hidden: bool


class NoteCreate(Strict):
    text: str = Field(min_length=1, max_length=64 * 1024)


class IdentityPublic(BaseModel):
    kind: str
    value: str
    display_name: str | None
    verified: bool
    attributes: dict[str, Any] = Field(default_factory=dict)


class OwnerPublic(BaseModel):
    """A customer's concierge: the agent their new conversations go to first."""

    id: int
    name: str


class CustomerPublic(BaseModel):
    id: int
    name: str | None
    identities: list[IdentityPublic]
    attributes: dict[str, Any]
    reach: int | None = None  # the most followers of any of the customer's identities
    created_at: datetime
    owner: OwnerPublic | None = None


class OrderItemIn(Strict):
    name: str = Field(min_length=1, max_length=300)
    quantity: int = Field(1, ge=1, le=1_000_000)
    sku: str | None = Field(None, max_length=100)
    unit_price: Decimal | None = Field(None, ge=0, max_digits=18)


class OrderCreate(Strict):
    """An order or purchase: ``amount`` in the currency's units (``89.90``), as a number or a
    string."""

    number: str = Field(min_length=1, max_length=64, description="Unique in the workspace.")
    ordered_at: AwareDatetime
    amount: Decimal = Field(ge=0, max_digits=18)
    currency: str = Field("EUR", min_length=3, max_length=3, description="ISO 4217 code.")
    channel: OrderChannel = OrderChannel.WEB
    store: str | None = Field(None, max_length=200)
    status: OrderStatus = OrderStatus.PLACED
    items: list[OrderItemIn] = Field(default_factory=list, max_length=500)


class OrderImport(OrderCreate):
    """An order of an import: whose it is by ``customer_id``, else by ``customer_email`` or
    ``customer_phone`` (a customer is created with ``customer_name`` when nobody has them)."""

    customer_id: Id | None = None
    customer_email: str | None = Field(None, max_length=320)
    customer_phone: str | None = Field(None, max_length=64)
    customer_name: str | None = Field(None, max_length=300)


class OrderBatch(Strict):
    items: list[OrderImport] = Field(min_length=1, max_length=1000)


class OrderItemPublic(BaseModel):
    name: str
    quantity: int
    sku: str | None
    unit_price: Decimal | None


class OrderPublic(BaseModel):
    id: int
    customer_id: int
    number: str
    ordered_at: datetime
    amount: Decimal
    currency: str
    channel: str
    store: str | None
    status: str
    items: list[OrderItemPublic]


class OrderBatchItem(BaseModel):
    """``created``, ``updated`` or ``unchanged`` with the order, or ``refused`` with why."""

    number: str
    result: Literal["created", "updated", "unchanged", "refused"]
    order: OrderPublic | None = None
    error: ErrorPublic | None = None


class OrderBatchResult(BaseModel):
    items: list[OrderBatchItem]


class CallbackPublic(BaseModel):
    """A callback the customer asked for: when it was due, how it went."""

    id: int
    channel_id: int
    conversation_id: int
    phone: str
    due_at: datetime
    status: str
    attempts: int
    outcome_note: str | None
    agent_id: int | None


class SurveyPublic(BaseModel):
    """A satisfaction survey: sent, then answered (CSAT 1–5, NPS 0–10, solved at first
    contact) or expired; the comment is the customer's words."""

    id: int
    conversation_id: int
    channel_id: int
    sent_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    csat: int | None
    nps: int | None
    solved_first_contact: bool | None
    comment: str | None


class TimelineEntry(BaseModel):
    type: Literal["message", "event", "order", "callback", "survey"]
    at: datetime
    conversation_id: int | None = None
    message: MessagePublic | None = None
    order: OrderPublic | None = None
    callback: CallbackPublic | None = None
    survey: SurveyPublic | None = None
    action: str | None = None
    details: dict[str, Any] | None = None


class CustomerDetail(CustomerPublic):
    conversations: list[ConversationPublic]
    orders: list[OrderPublic]
    timeline: list[TimelineEntry]


class IdentityIn(Strict):
    kind: IdentityKind
    value: str = Field(min_length=1, max_length=320)
    name: str | None = Field(default=None, max_length=300)
    verified: bool = False


class CustomerCreate(Strict):
    name: str | None = Field(default=None, max_length=300)
    identities: list[IdentityIn] = Field(default_factory=list, max_length=50)
    attributes: dict[str, Any] = Field(default_factory=dict)


class CustomerUpdate(Strict):
    name: str | None = Field(default=None, max_length=300)
    attributes: dict[str, Any] | None = None
    owner_id: Id | None = Field(
        default=None,
        description="The concierge (null: none); supervisors and admins only. Absent: unchanged.",
    )


class CustomerFilterIn(Strict):
    """The customer list's filters: a text in the name or an identity, an attribute's value."""

    q: str | None = Field(default=None, max_length=200)
    attribute: str | None = Field(default=None, min_length=1, max_length=64)
    value: StrictBool | StrictInt | float | str | None = Field(default=None)


class OwnerAssignment(Strict):
    """Give one concierge (or none: null) to many customers: by ids, or by a filter."""

    owner_id: Id | None
    customer_ids: list[Id] | None = Field(default=None, max_length=10_000)
    filter: CustomerFilterIn | None = None


class OwnerAssigned(BaseModel):
    assigned: int = Field(description="Customers whose concierge changed.")


class PresenceUpdate(Strict):
    presence: Literal["online", "away", "offline"]


class PresencePublic(BaseModel):
    presence: str = Field(description="What the user said: online, away or offline.")
    availability: str = Field(
        description="What routing makes of it: online, away (said so, or idle), offline, inactive."
    )


class NotificationPublic(BaseModel):
    id: int
    kind: str
    text: str = Field(description="The notification said in the user's language.")
    conversation_id: int | None
    customer_id: int | None
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class NotificationsPublic(BaseModel):
    items: list[NotificationPublic]
    unread: int


class MergeRequest(Strict):
    other_id: Id


class PrivacyRequest(Strict):
    """Why a customer's data is exported or erased: kept in the event log with who asked."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class ErasurePublic(BaseModel):
    customer_id: int
    merged_ids: list[int] = Field(description="Customers merged into it, erased with it.")
    closed_conversation_ids: list[int] = Field(
        description="Conversations that were still open: closed by the erasure."
    )
    conversations: int
    messages: int = Field(description="Messages anonymised in place (times and channels kept).")
    attachments: int
    files: int = Field(description="Attachment files deleted (not those another one shares).")
    identities: int
    orders: int
    callbacks: int
    elsewhere: dict[str, int] = Field(
        description="Rows outside the customer's own where its traces were removed."
    )


class SuggestionMerge(Strict):
    target_id: Id | None = Field(
        None, description="Which of the two keeps the history; default: the older customer."
    )


class DuplicatePublic(BaseModel):
    """Two customers who may be one person, and why (``explanation``: the evidence in words)."""

    id: int
    score: float
    status: Literal["open", "merged", "dismissed"]
    customer: CustomerPublic
    other: CustomerPublic
    evidence: list[dict[str, Any]]
    explanation: list[str]
    decided_by_id: int | None
    decided_at: datetime | None


class ScanPublic(BaseModel):
    new: int
    updated: int
    withdrawn: int


class ContactCreate(Strict):
    """A phone call, a store visit or a letter, logged by hand on the customer's history."""

    channel_id: Id = Field(description="A phone, in_person or postal channel.")
    direction: Literal["inbound", "outbound"] = Field(
        description="inbound: the customer reached us; outbound: we reached them."
    )
    summary: str = Field(min_length=1, max_length=8000)
    occurred_at: AwareDatetime | None = Field(None, description="Default: now.")
    duration_minutes: int | None = Field(None, ge=0, le=1440)
    store: str | None = Field(None, max_length=200)
    outcome: Literal["answered", "follow_up", "escalated", "no_answer", "information"] | None = None
    conversation_id: Id | None = Field(
        None, description="Log it in this conversation of the customer; default: a new one."
    )


ConversationDetail.model_rebuild()


class SlaPolicyCreate(Strict):
    """A service-level policy: targets in seconds (none: not measured), for conversations of
    these channel kinds and priorities (empty: any)."""

    name: str = Field(min_length=1, max_length=200)
    position: int = Field(default=0, ge=0, le=1_000_000)
    channel_kinds: list[ChannelKind] = Field(default_factory=list, max_length=20)
    priorities: list[Priority] = Field(default_factory=list, max_length=4)
    first_response_seconds: int | None = None
    next_response_seconds: int | None = None
    resolution_seconds: int | None = None
    business_hours: bool = True
    warn_ratio: float = 0.2
    warn_before_seconds: int | None = None
    notify_supervisors: bool = True
    raise_priority: bool = False
    reassign_team_id: Id | None = None
    active: bool = True

    _clean = field_validator("name")(clean_text)


class SlaPolicyUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    position: int | None = Field(default=None, ge=0, le=1_000_000)
    channel_kinds: list[ChannelKind] | None = Field(default=None, max_length=20)
    priorities: list[Priority] | None = Field(default=None, max_length=4)
    first_response_seconds: int | None = None
    next_response_seconds: int | None = None
    resolution_seconds: int | None = None
    business_hours: bool | None = None
    warn_ratio: float | None = None
    warn_before_seconds: int | None = None
    notify_supervisors: bool | None = None
    raise_priority: bool | None = None
    reassign_team_id: Id | None = None
    active: bool | None = None

    _clean = field_validator("name")(clean_text)


class SlaPolicyPublic(BaseModel):
    id: int
    name: str
    position: int
    channel_kinds: list[str]
    priorities: list[str]
    first_response_seconds: int | None
    next_response_seconds: int | None
    resolution_seconds: int | None
    business_hours: bool
    warn_ratio: float
    warn_before_seconds: int | None
    notify_supervisors: bool
    raise_priority: bool
    reassign_team_id: int | None
    active: bool


class CustomFieldCreate(Strict):
    key: str = Field(min_length=1, max_length=64)
    label: str = Field(default="", max_length=200)
    type: Literal["text", "number", "date", "choice"]
    options: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=200
    )


class CustomFieldUpdate(Strict):
    label: str | None = Field(default=None, max_length=200)
    type: Literal["text", "number", "date", "choice"] | None = None
    options: list[Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, max_length=200
    )
    position: int | None = Field(default=None, ge=0, le=10_000)


class CustomFieldPublic(BaseModel):
    id: int | None
    key: str
    label: str
    type: str
    options: list[str]
    position: int
    builtin: bool


class SegmentCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    definition: dict[str, Any]
    shared: bool = False


class SegmentUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    definition: dict[str, Any] | None = None
    shared: bool | None = None


class SegmentPublic(BaseModel):
    id: int
    name: str
    definition: dict[str, Any]
    shared: bool
    author_id: int | None
    created_at: datetime


class CustomerPagePublic(PagePublic[CustomerPublic]):
    count: int | None = None
