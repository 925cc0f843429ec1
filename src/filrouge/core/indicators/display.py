"""The dashboard's figures in words and numbers of one language: labels from the catalogue,
shares, durations and dates formatted by Babel for the reader's locale, "no data" for null."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from filrouge.core.indicators.dashboard import DURATIONS, SHARES, Headline
from filrouge.core.indicators.period import Interval
from filrouge.i18n import N_, translate

METRIC_LABELS = {
    "conversations": N_("Conversations"),
    "customers": N_("Customers"),
    "inbound_messages": N_("Messages received"),
    "replies": N_("Replies"),
    "responded": N_("Answered"),
    "response_rate": N_("Response rate"),
    "first_response_median_s": N_("Median first response"),
    "first_response_p90_s": N_("First response, 90th percentile"),
    "resolution_median_s": N_("Median resolution time"),
    "resolved": N_("Resolved"),
    "resolution_rate": N_("Resolution rate"),
    "fcr_rate": N_("First-contact resolution"),
    "reopen_rate": N_("Reopen rate"),
    "csat": N_("Satisfaction (CSAT)"),
    "csat_answers": N_("Survey answers"),
    "nps": N_("NPS"),
    "solved_first_contact_reported": N_("Solved at first contact (said by customers)"),
    "sla_compliance": N_("SLA kept"),
    "public_replies": N_("Public replies"),
    "private_replies": N_("Private replies"),
    "signed_replies_share": N_("Signed replies"),
    "channel_switches_per_conversation": N_("Channel switches per conversation"),
    "contacts_per_customer_per_month": N_("Contacts per customer per month"),
    "backlog": N_("Backlog"),
}
NO_DATA = N_("No data")


def percent_pattern(locale: str) -> str:
    """The locale's own percent pattern ("80 %" in French, "80%" in English), one decimal."""
    pattern = Locale.parse(locale).percent_formats[None].pattern
    return re.sub(r"0(?!.*0)", "0.0", pattern, count=1)


@dataclass(frozen=True)
class Display:
    locale: str

    def _(self, message_id: str, **params: Any) -> str:
        return translate(message_id, self.locale, **params)

    def label(self, metric: str) -> str:
        return self._(METRIC_LABELS.get(metric, metric))

    def value(self, metric: str, value: Any) -> str:
        """A figure as read on the page; "No data" for null, never 0."""
        if value is None:
            return self._(NO_DATA)
        if metric in SHARES:
            return format_percent(value, percent_pattern(self.locale), locale=self.locale)
        if metric in DURATIONS:
            return self.duration(float(value))
        return format_decimal(value, locale=self.locale)

    def duration(self, seconds: float) -> str:
        minutes = round(seconds / 60)
        if seconds < 60:
            return self._("{seconds} s", seconds=round(seconds))
        if minutes < 60:
            return self._("{minutes} min", minutes=minutes)
        hours, minutes = divmod(minutes, 60)
        if hours < 48:
            return self._("{hours} h {minutes:02d} min", hours=hours, minutes=minutes)
        days, hours = divmod(hours, 24)
        return self._("{days} d {hours} h", days=days, hours=hours)

    def change(self, headline: Headline) -> str:
        """The trend against the previous period: points for shares, percent otherwise."""
        change = headline.change
        if change is None:
            return self._("no comparison")
        if headline.metric in SHARES:
            points = format_decimal(change * 100, "+#,##0.0;-#,##0.0", locale=self.locale)
            return self._("{points} pts", points=points)
        pattern = Locale.parse(self.locale).percent_formats[None].pattern
        return format_percent(change, f"+{pattern};-{pattern}", locale=self.locale)

    def period_day(self, day: date, interval: Interval) -> str:
        if interval == "month":
            return format_date(day, "MMMM y", locale=self.locale)
        if interval == "week":
            return self._("week of {day}", day=format_date(day, "d MMM", locale=self.locale))
        return format_date(day, "d MMM", locale=self.locale)

    def day(self, day: date) -> str:
        return format_date(day, "long", locale=self.locale)
