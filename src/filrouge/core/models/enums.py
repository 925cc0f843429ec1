"""The closed vocabularies of the domain, as string enums stored by value."""

from __future__ import annotations

from enum import StrEnum


class ChannelKind(StrEnum):
    EMAIL = "email"
    WEB_FORM = "web_form"
    CHAT = "chat"
    MESSENGER = "messenger"
    FACEBOOK_COMMENTS = "facebook_comments"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"
    X = "x"
    TELEGRAM = "telegram"
    SMS = "sms"
    CALLBACK = "callback"
    PHONE = "phone"
    IN_PERSON = "in_person"
    POSTAL = "postal"
    API = "api"


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    TELEGRAM = "telegram"
    CHAT_VISITOR = "chat_visitor"
    POSTAL_ADDRESS = "postal_address"
    EXTERNAL = "external"


class ConversationStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Visibility(StrEnum):
    PRIVATE = "private"
    PUBLIC = "public"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"


class DeliveryStatus(StrEnum):
    RECEIVED = "received"
    AWAITING_APPROVAL = "awaiting_approval"  # a contributor's reply, before a supervisor's OK
    REJECTED = "rejected"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    CONTRIBUTOR = "contributor"


class ActorKind(StrEnum):
    USER = "user"
    CUSTOMER = "customer"
    CHANNEL = "channel"
    SYSTEM = "system"


class MessageFlag(StrEnum):
    """Why a message needs another look than a customer's words."""

    AUTO_REPLY = "auto_reply"  # out of office, autoresponders
    BOUNCE = "bounce"  # a delivery failure report
    BULK = "bulk"  # newsletters, lists
    UNREADABLE = "unreadable"  # could not be parsed: kept raw
    SYSTEM = "system"  # the network's notice (WhatsApp: a number or an identity changed)
    AUTOMATIC = "automatic"  # ours, sent by no person: a satisfaction survey, an acknowledgement


AUTOMATIC_FLAGS = frozenset(
    {
        MessageFlag.AUTO_REPLY,
        MessageFlag.BOUNCE,
        MessageFlag.BULK,
        MessageFlag.SYSTEM,
        MessageFlag.AUTOMATIC,
    }
)


class OrderChannel(StrEnum):
    """Where the customer bought."""

    WEB = "web"
    STORE = "store"
    PHONE = "phone"
    MARKETPLACE = "marketplace"
    OTHER = "other"


class OrderStatus(StrEnum):
    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"
    REFUNDED = "refunded"
