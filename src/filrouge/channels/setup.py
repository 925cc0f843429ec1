"""What an admin fills in to connect each provider channel, and what to paste where.

One entry per kind that takes provider webhooks: its settings (named as the provider names
them; secrets are stored encrypted and shown masked) and where the webhook URL goes in the
provider's console. The admin page renders these; the channels read the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

from filrouge.core.models.enums import ChannelKind
from filrouge.i18n import N_


@dataclass(frozen=True)
class SetupField:
    name: str
    label: str
    secret: bool = False


META_APP = (
    SetupField("app_secret", N_("App secret (signs every delivery)"), secret=True),
    SetupField("verify_token", N_("Verify token (you choose it; paste it in the console)"), True),
    SetupField("access_token", N_("Access token"), secret=True),
)


@dataclass(frozen=True)
class ProviderSetup:
    fields: tuple[SetupField, ...]
    console: str  # where the webhook URL goes


SETUPS: dict[str, ProviderSetup] = {
    ChannelKind.FACEBOOK_COMMENTS: ProviderSetup(
        (SetupField("page_id", N_("Page id")), *META_APP),
        N_("Meta app → Webhooks → Page: callback URL and verify token; subscribe to “feed”."),
    ),
    ChannelKind.MESSENGER: ProviderSetup(
        (SetupField("page_id", N_("Page id")), *META_APP),
        N_(
            "Meta app → Messenger → Webhooks: callback URL and verify token; subscribe to "
            "“messages”, “messaging_postbacks”, “message_deliveries”, “message_reads”."
        ),
    ),
    ChannelKind.INSTAGRAM: ProviderSetup(
        (SetupField("instagram_account_id", N_("Instagram account id")), *META_APP),
        N_(
            "Meta app → Instagram → Webhooks: callback URL and verify token; subscribe to "
            "“messages” and “comments”."
        ),
    ),
    ChannelKind.WHATSAPP: ProviderSetup(
        (SetupField("phone_number_id", N_("Phone number id")), *META_APP),
        N_(
            "Meta app → WhatsApp → Configuration: callback URL and verify token; subscribe to "
            "“messages”. List your approved templates in the settings (templates)."
        ),
    ),
    ChannelKind.X: ProviderSetup(
        (
            SetupField("user_id", N_("Account id (user id of the brand's account)")),
            SetupField("consumer_secret", N_("API key secret (signs every delivery)"), True),
            SetupField("access_token", N_("User access token (OAuth 2.0)"), secret=True),
            SetupField("consumer_key", N_("API key (OAuth 1.0a: files sent by DM)"), True),
            SetupField("oauth_token", N_("Access token (OAuth 1.0a: files sent by DM)"), True),
            SetupField("oauth_token_secret", N_("Access token secret (OAuth 1.0a)"), True),
        ),
        N_(
            "X developer portal → Account Activity API: register the webhook URL, then "
            "subscribe the brand's account."
        ),
    ),
    ChannelKind.TELEGRAM: ProviderSetup(
        (
            SetupField("bot_token", N_("Bot token (from @BotFather)"), secret=True),
            SetupField("secret_token", N_("Secret token (you choose it)"), secret=True),
        ),
        N_("Call setWebhook with this URL as url and your secret token as secret_token."),
    ),
    ChannelKind.SMS: ProviderSetup(
        (
            SetupField("account_sid", N_("Account SID")),
            SetupField("auth_token", N_("Auth token (signs every delivery)"), secret=True),
            SetupField("phone_number", N_("Phone number (E.164)")),
            SetupField("webhook_url", N_("Public URL of this webhook, if behind a proxy")),
        ),
        N_(
            "Twilio console → Phone number → Messaging: “A message comes in” (HTTP POST) and "
            "the status callback URL."
        ),
    ),
}
