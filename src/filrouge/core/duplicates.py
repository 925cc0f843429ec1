"""Finding customers who may be one person, when the evidence is not enough to link them
automatically (only a *verified* email or phone on both sides is). Each pair comes with the
evidence, in words a supervisor can check:

- ``same_phone``: the same number (E.164) on both, by phone, SMS or WhatsApp, one unverified;
- ``chat_email``: a chat visitor typed an email that is another customer's;
- ``same_name_same_domain``: the same name (case and accents aside) and the same email domain,
  unless the domain is a mailbox provider (used by more than 20 customers);
- ``similar_name``: the name of someone known only by a social network (no verified email or
  phone) close to a known customer's name (rapidfuzz).

Names are compared within blocks (the first letters of the first and last words), so that a
scan never compares every customer with every other.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process, utils
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.models import Customer, Identity
from filrouge.core.models.enums import IdentityKind

PHONE_KINDS = frozenset({IdentityKind.PHONE.value, IdentityKind.WHATSAPP.value})
SOCIAL_KINDS = frozenset(
    {
        IdentityKind.FACEBOOK.value,
        IdentityKind.MESSENGER.value,
        IdentityKind.INSTAGRAM.value,
        IdentityKind.X.value,
        IdentityKind.TELEGRAM.value,
        IdentityKind.WHATSAPP.value,
    }
)
ADDRESS_KINDS = frozenset(
    {IdentityKind.EMAIL.value, IdentityKind.PHONE.value, IdentityKind.WHATSAPP.value}
)
PROVIDER_DOMAIN_USERS = 20  # customers at one domain beyond which it is a mailbox provider
CHAT_EMAIL = "chat_email"  # channels/chat/visitors.py keeps an email someone else owns here
WEIGHTS = {"same_phone": 0.9, "chat_email": 0.85, "same_name_same_domain": 0.6}
SIMILAR_NAME_WEIGHT = 0.5  # times the similarity (0–1)
SIMILAR_NAME_CUTOFF = 88.0  # rapidfuzz's token sort ratio, 0–100


@dataclass
class Candidate:
    """A live customer and what the scan needs of them."""

    id: int
    name: str | None
    attributes: dict[str, Any]
    identities: list[tuple[str, str, str | None, bool]] = field(default_factory=list)

    def emails(self) -> list[str]:
        return [value for kind, value, _n, _v in self.identities if kind == IdentityKind.EMAIL]


Pair = tuple[int, int]
Evidence = dict[str, Any]


def find_duplicates(session: Session, workspace_id: int) -> dict[Pair, list[Evidence]]:
    """Every pair of live customers that may be one person, (lower id, higher id) → evidence."""
    return pairs_among(_candidates(session, workspace_id))


def pairs_among(
    candidates: dict[int, Candidate],
    providers: set[str] | None = None,
    *,
    addresses: bool = True,
    names: bool = True,
) -> dict[Pair, list[Evidence]]:
    """The pairs these candidates make: by ``addresses`` (phone, typed email, name at a
    domain) and by close ``names``. ``providers``: the mailbox providers' domains, when the
    candidates are only part of the workspace (else counted among them)."""
    found: dict[Pair, list[Evidence]] = defaultdict(list)
    finders: list[Iterable[tuple[Pair, Evidence]]] = []
    if addresses:
        finders += [
            _same_phone(candidates),
            _chat_email(candidates),
            _same_name_same_domain(candidates, providers),
        ]
    if names:
        finders.append(_similar_social_name(candidates))
    for pairs in finders:
        for pair, evidence in pairs:
            if pair[0] != pair[1] and evidence not in found[_ordered(pair)]:
                found[_ordered(pair)].append(evidence)
    return dict(found)


def score_of(evidence: Iterable[Evidence]) -> float:
    """1 − Π(1 − weight): several independent clues make a likelier pair."""
    doubt = 1.0
    for item in evidence:
        weight = WEIGHTS.get(item["kind"])
        if weight is None:
            weight = SIMILAR_NAME_WEIGHT * float(item.get("similarity", 0)) / 100
        doubt *= 1 - weight
    return round(1 - doubt, 3)


def normalised_name(name: str | None) -> str:
    """Lower case, accents and punctuation aside, words in order: "Éloïse  DUPONT-Léger" →
    "eloise dupont leger"."""
    if not name:
        return ""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(utils.default_process(plain).split())


def _ordered(pair: Pair) -> Pair:
    return (pair[0], pair[1]) if pair[0] < pair[1] else (pair[1], pair[0])


def _candidates(session: Session, workspace_id: int) -> dict[int, Candidate]:
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.attributes).where(
            Customer.workspace_id == workspace_id, Customer.merged_into_id.is_(None)
        )
    )
    candidates = {row.id: Candidate(row.id, row.name, row.attributes or {}) for row in rows}
    identities = session.execute(
        select(
            Identity.customer_id,
            Identity.kind,
            Identity.value,
            Identity.display_name,
            Identity.verified,
        ).where(Identity.workspace_id == workspace_id)
    )
    for customer_id, kind, value, display_name, verified in identities:
        if customer_id in candidates:
            candidates[customer_id].identities.append((kind, value, display_name, verified))
    return candidates


def _same_phone(candidates: dict[int, Candidate]) -> Iterable[tuple[Pair, Evidence]]:
    owners: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for candidate in sorted(candidates.values(), key=lambda c: c.id):
        for kind, value, _name, _verified in candidate.identities:
            if kind in PHONE_KINDS:
                owners[value].append((candidate.id, kind))
    for number, holders in owners.items():
        for index, (first, first_kind) in enumerate(holders):
            for second, second_kind in holders[index + 1 :]:
                evidence = {"kind": "same_phone", "value": number, "by": [first_kind, second_kind]}
                yield (first, second), evidence


def _chat_email(candidates: dict[int, Candidate]) -> Iterable[tuple[Pair, Evidence]]:
    owners = {email: c.id for c in candidates.values() for email in c.emails()}
    for candidate in candidates.values():
        typed = candidate.attributes.get(CHAT_EMAIL)
        if isinstance(typed, str) and typed in owners:
            yield (candidate.id, owners[typed]), {"kind": "chat_email", "value": typed}


def _same_name_same_domain(
    candidates: dict[int, Candidate], providers: set[str] | None = None
) -> Iterable[tuple[Pair, Evidence]]:
    """The same name at a company's or a family's domain; a domain that many customers use is
    a mailbox provider (gmail.com, orange.fr…), where namesakes are strangers."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    users: dict[str, int] = defaultdict(int)
    for candidate in sorted(candidates.values(), key=lambda c: c.id):
        domains = {email.rpartition("@")[2] for email in candidate.emails()}
        for domain in domains:
            users[domain] += 1
        name = normalised_name(candidate.name)
        for domain in domains if name else ():
            groups[(name, domain)].append(candidate.id)
    if providers is None:
        providers = {domain for domain, count in users.items() if count > PROVIDER_DOMAIN_USERS}
    for (_name, domain), ids in groups.items():
        if domain in providers:
            continue
        for index, first in enumerate(ids):
            for second in ids[index + 1 :]:
                names = [candidates[first].name, candidates[second].name]
                yield (
                    (first, second),
                    {
                        "kind": "same_name_same_domain",
                        "domain": domain,
                        "names": names,
                    },
                )


def _similar_social_name(candidates: dict[int, Candidate]) -> Iterable[tuple[Pair, Evidence]]:
    """The name of someone known only by a social network (no verified email or phone)
    against the names of the other customers of its block: the best match per pair above the
    cutoff. Two customers who each have their own verified address are namesakes, not one
    person, until other evidence says so."""
    blocks: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for candidate in candidates.values():
        name = normalised_name(candidate.name)
        if name:
            blocks[name_block(name)].append((candidate.id, name))
    best: dict[Pair, Evidence] = {}
    for candidate in candidates.values():
        if _has_verified_address(candidate):
            continue
        for pair, evidence in _close_names(candidate, candidates, blocks):
            key = _ordered(pair)
            if key not in best or evidence["similarity"] > best[key]["similarity"]:
                best[key] = evidence
    return best.items()


def _has_verified_address(candidate: Candidate) -> bool:
    return any(
        verified and kind in ADDRESS_KINDS for kind, _value, _name, verified in candidate.identities
    )


def _close_names(
    candidate: Candidate,
    candidates: dict[int, Candidate],
    blocks: dict[str, list[tuple[int, str]]],
) -> Iterable[tuple[Pair, Evidence]]:
    for kind, _value, display_name, _verified in candidate.identities:
        shown = display_name or candidate.name  # the name the network shows, else ours
        social = normalised_name(shown) if kind in SOCIAL_KINDS else ""
        if not social:
            continue
        others = [(i, n) for i, n in blocks.get(name_block(social), []) if i != candidate.id]
        for _match, similarity, position in process.extract(
            social,
            [name for _id, name in others],
            scorer=fuzz.token_sort_ratio,
            score_cutoff=SIMILAR_NAME_CUTOFF,
            limit=5,
        ):
            other_id = others[position][0]
            yield (
                (candidate.id, other_id),
                {
                    "kind": "similar_name",
                    "network": kind,
                    "name": shown,
                    "other_name": candidates[other_id].name,
                    "similarity": round(similarity, 1),
                },
            )


def name_block(name: str) -> str:
    """The first two letters of the first and of the last word, in alphabetical order:
    "jeanne martin" and "martin jeane" share "je|ma"."""
    words = name.split()
    ends = sorted({words[0][:2], words[-1][:2]})
    return "|".join(ends)
