"""The widget's words, from the server's catalogue (``make messages`` extracts them here).

The script carries both languages; the widget picks the page's ``lang`` (else the browser's)."""

from __future__ import annotations

from filrouge.i18n import LOCALES, N_, translate

WIDGET_STRINGS = {
    "title": N_("Chat with us"),
    "open": N_("Open the chat"),
    "close": N_("Close the chat"),
    "placeholder": N_("Write your message…"),
    "send": N_("Send"),
    "attach": N_("Send a photo or a video"),
    "name": N_("Your name (optional)"),
    "email": N_("Your email (optional)"),
    "email_offline": N_("Your email, so that we can answer you"),
    "save": N_("Save"),
    "online": N_("We are here and usually answer within a few minutes."),
    "closed_until": N_(
        "We are away until {when}. Leave a message and your email: we will answer by email."
    ),
    "closed": N_("We are away. Leave a message and your email: we will answer by email."),
    "no_agent": N_(
        "Nobody is available right now. Leave a message and your email: we will answer by email."
    ),
    "typing": N_("{name} is typing…"),
    "agent": N_("Support"),
    "you": N_("You"),
    "uploading": N_("Sending the file…"),
    "upload_failed": N_("The file could not be sent."),
    "too_large": N_("The file is larger than the limit of {limit_mb} MB."),
    "reconnecting": N_("Connection lost, reconnecting…"),
    "email_saved": N_("Thank you, we will answer at {email}."),
    "unread": N_("{count} new messages"),
    "file": N_("File: {filename}"),
    "rate": N_("Your rating, from 1 to 5"),
    "stars": N_("{n} out of 5"),
    "rated": N_("Thank you for your rating!"),
}

DEMO_STRINGS = {
    "title": N_("Live chat demo"),
    "intro": N_(
        "This page shows the chat widget of {channel}. Add it to any page of your site with:"
    ),
    "origins": N_("Only pages of the sites listed in the channel's allowed origins may use it."),
}


def widget_strings() -> dict[str, dict[str, str]]:
    return {
        locale: {k: translate(v, locale) for k, v in WIDGET_STRINGS.items()} for locale in LOCALES
    }
