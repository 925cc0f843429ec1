"""Urgency signals: words in the text (French and English), facts from the context.

Texts are compared lower-cased and without accents. A signal is found by a phrase anywhere in
the text (``PHRASES``: word starts such as « résili » or "explod" included) or by a whole word
(``WORDS``: « avocat », "sue", "fire", where a part of a longer word would mislead). Going public
is also a verb of telling followed, within a few words, by a public place.
"""

from __future__ import annotations

import re

from filrouge.triage.polarity import strip_accents, words
from filrouge.triage.types import Context

HIGH_REACH_FOLLOWERS = 10_000
REPEAT_CONTACTS = 3  # messages in the last days, this one excluded

PHRASES: dict[str, tuple[str, ...]] = {
    "threat_to_leave": (
        "resili",
        "cloturer mon compte",
        "fermer mon compte",
        "changer d'operateur",
        "changer de banque",
        "la concurrence",
        "je me desabonne",
        "desabonnement",
        "derniere fois que je",
        "plus jamais chez vous",
        "je pars chez",
        "je vous quitte",
        "vous perdez un client",
        "perdu un client",
        "cancel my",
        "cancelling my",
        "canceling my",
        "i'm cancelling",
        "im cancelling",
        "i am cancelling",
        "close my account",
        "closing my account",
        "switching to",
        "switch to another",
        "switching provider",
        "take my business",
        "taking my business",
        "never ordering from you",
        "never buying from you",
        "never shopping with you",
        "never flying with you",
        "last time i order",
        "last time i buy",
        "lost a customer",
        "leaving you",
        "i'm done with you",
        "im done with you",
    ),
    "threat_to_go_public": (
        "faire le buzz",
        "tout le monde va savoir",
        "tout le monde saura",
        "going viral",
        "tell everyone",
        "everyone will know",
        "go public",
        "60 millions",
        "que choisir",
    ),
    "legal": (
        "mise en demeure",
        "tribunal",
        "porter plainte",
        "deposer plainte",
        "plainte contre",
        "huissier",
        "mediateur",
        "dgccrf",
        "action de groupe",
        "service juridique",
        "lawyer",
        "attorney",
        "lawsuit",
        "legal action",
        "small claims",
        "ombudsman",
        "trading standards",
        "solicitor",
        "class action",
    ),
    "safety": (
        "brulure",
        "incendie",
        "pris feu",
        "prend feu",
        "en feu",
        "fumee",
        "explos",
        "electrocut",
        "court-circuit",
        "blesse",
        "blessure",
        "dangereu",
        "intoxi",
        "fuite de gaz",
        "odeur de gaz",
        "surchauffe",
        "etincelle",
        "agress",
        "caught fire",
        "on fire",
        "smoke",
        "electric shock",
        "injur",
        "unsafe",
        "dangerous",
        "poison",
        "gas leak",
        "smell of gas",
        "overheat",
        "sparks",
        "assault",
    ),
}
WORDS: dict[str, frozenset[str]] = {
    "threat_to_leave": frozenset(),
    "threat_to_go_public": frozenset(),
    "legal": frozenset({"avocat", "avocats", "proces", "justice", "ufc", "sue", "suing", "court"}),
    "safety": frozenset(
        {
            "brule",
            "brulee",
            "brules",
            "brulees",
            "danger",
            "burn",
            "burns",
            "burnt",
            "burned",
            "fire",
            "hurt",
            "explode",
            "exploded",
        }
    ),
}
PUBLIC_PLACES = words(
    "twitter tweet x facebook insta instagram tiktok linkedin youtube reseaux presse"
    " journaux journalistes medias media avis trustpilot google social press news"
    " reviews review bbc watchdog"
)
TELLING = words(
    "parler publier poster raconter denoncer partager mettre ecrire laisser post"
    " posting tweet tweeting share sharing tell telling write writing leave leaving"
    " report reporting"
)
PLACE_WITHIN = 6  # words between the verb and the place
_WORD = re.compile(r"[\w'-]+")


def _tells_in_public(words: list[str]) -> bool:
    for index, word in enumerate(words):
        if word in PUBLIC_PLACES and TELLING.intersection(
            words[max(0, index - PLACE_WITHIN) : index]
        ):
            return True
    return False


def text_signals(text: str) -> list[str]:
    plain = strip_accents(text.lower()).replace("’", "'")
    words = _WORD.findall(plain)
    present = set(words)
    found = [
        code
        for code, phrases in PHRASES.items()
        if any(phrase in plain for phrase in phrases) or not WORDS[code].isdisjoint(present)
    ]
    if "threat_to_go_public" not in found and _tells_in_public(words):
        found.insert(
            found.index("legal") if "legal" in found else len(found), "threat_to_go_public"
        )
    return sorted(found, key=list(PHRASES).index)


def context_signals(context: Context) -> list[str]:
    found = []
    if context.public:
        found.append("public")
    if context.followers >= HIGH_REACH_FOLLOWERS:
        found.append("high_reach")
    if context.vip:
        found.append("vip")
    if context.recent_contacts >= REPEAT_CONTACTS:
        found.append("repeat_contact")
    return found
