"""Order numbers written in messages ("ma commande ML-2026-004211", "order #482913"), matched
against the orders on record when a thread is shown: an order imported after the message is
recognised too, and nothing is written."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.actions.orders import number_key
from filrouge.core.models import Order

# A word of letters, digits and inner dashes; it may be an order number when it holds 4 digits.
WORD = re.compile(r"(?<![\w-])[A-Za-z0-9][A-Za-z0-9-]{2,62}[A-Za-z0-9](?![\w-])")
MAX_CANDIDATES = 500


def candidates_in(text: str) -> set[str]:
    return {
        number_key(word)
        for word in WORD.findall(text)
        if sum(character.isdigit() for character in word) >= 4
    }


def orders_mentioned(session: Session, workspace_id: int, texts: Iterable[str]) -> dict[str, Order]:
    """The orders named in ``texts``, by their number's key, in one query."""
    keys: set[str] = set()
    for text in texts:
        keys |= candidates_in(text)
        if len(keys) >= MAX_CANDIDATES:
            break
    if not keys:
        return {}
    found = session.scalars(
        select(Order).where(
            Order.workspace_id == workspace_id, Order.number_key.in_(sorted(keys)[:MAX_CANDIDATES])
        )
    )
    return {order.number_key: order for order in found}


def mentions_in(text: str, orders: dict[str, Order]) -> list[Order]:
    """The orders of ``orders`` that ``text`` names, in the order it names them."""
    named: list[Order] = []
    for word in WORD.findall(text):
        order = orders.get(number_key(word))
        if order is not None and order not in named:
            named.append(order)
    return named
