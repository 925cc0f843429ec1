"""Build the training corpus from the hand-written templates (fixed seed, so the same file).

Run ``python -m filrouge.triage.corpus.build`` after editing ``templates/*.txt``; it rewrites
``corpus.jsonl`` beside it (committed). Each template is filled a few times with different slots,
wrapped like a tweet, an SMS or an email, and roughened (typos, SMS-speak, missing accents, emoji)
the way real customer messages are. The labelling guide is docs/TRIAGE_GUIDE.md.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from pathlib import Path

HERE = Path(__file__).parent
OUTPUT = HERE / "corpus.jsonl"
SEED = 20261204
VARIANTS = 10
SENTIMENTS = {"n": "negative", "u": "neutral", "p": "positive"}

SLOTS: dict[str, dict[str, list[str]]] = {
    "fr": {
        "p": [
            "colis",
            "lave-linge",
            "forfait",
            "téléphone",
            "canapé",
            "frigo",
            "aspirateur",
            "billet",
            "ordinateur",
            "casque",
            "matelas",
            "vélo électrique",
            "décodeur",
            "imprimante",
            "manteau",
            "carte bancaire",
            "routeur",
            "sèche-linge",
        ],
        "c": [
            "Lyon",
            "Marseille",
            "Lille",
            "Nantes",
            "Bordeaux",
            "Toulouse",
            "Rennes",
            "Paris",
            "Strasbourg",
            "Montpellier",
            "Nice",
            "Brest",
            "Dijon",
            "Grenoble",
            "Tours",
        ],
        "n": [
            "Sophie",
            "Karim",
            "Julie",
            "Mehdi",
            "Camille",
            "Nathalie",
            "Thomas",
            "Inès",
            "Lucas",
            "Fatou",
            "Pierre",
            "Léa",
            "Yannick",
            "Chloé",
            "Sami",
        ],
        "t": [
            "depuis 3 jours",
            "depuis hier",
            "depuis deux semaines",
            "depuis un mois",
            "depuis lundi",
            "depuis 10 jours",
            "depuis ce matin",
            "depuis 15 ans",
        ],
        "m": [
            "@BoutiqueLumen",
            "@BanquePivert",
            "@Telcio_Aide",
            "@RailPlus",
            "@LumenSAV",
            "@Pivert_Client",
            "@TelcioFR",
        ],
    },
    "en": {
        "p": [
            "parcel",
            "washing machine",
            "phone plan",
            "phone",
            "sofa",
            "fridge",
            "vacuum",
            "ticket",
            "laptop",
            "headphones",
            "mattress",
            "e-bike",
            "TV box",
            "printer",
            "coat",
            "debit card",
            "router",
            "tumble dryer",
        ],
        "c": [
            "Leeds",
            "Manchester",
            "Bristol",
            "Glasgow",
            "London",
            "Cardiff",
            "Boston",
            "Dublin",
            "Chicago",
            "Liverpool",
            "Brighton",
            "Denver",
            "York",
            "Austin",
        ],
        "n": [
            "Sarah",
            "James",
            "Priya",
            "Tom",
            "Aisha",
            "Mike",
            "Emma",
            "Jake",
            "Olivia",
            "Chris",
            "Hannah",
            "Dan",
            "Zoe",
            "Ben",
            "Lucy",
        ],
        "t": [
            "for 3 days",
            "since yesterday",
            "for two weeks",
            "for a month",
            "since Monday",
            "for 10 days",
            "since this morning",
            "for 15 years",
        ],
        "m": [
            "@LumenStore",
            "@PivertBank",
            "@TelcioHelp",
            "@RailPlusUK",
            "@Lumen_Support",
            "@PivertHelp",
            "@Telcio",
        ],
    },
}

WRAPS: dict[str, dict[str, list[str]]] = {
    "fr": {
        "open": [
            "Bonjour, ",
            "Bonjour {m}, ",
            "{m} ",
            "{m} ",
            "Salut, ",
            "Hello ",
            "Bonsoir, ",
            "Madame, Monsieur, ",
            "Re: ",
            "Cc {m} ",
            "Slt ",
            "",
        ],
        "close": [
            " Merci.",
            " Cordialement, {n}",
            " Bonne journée",
            " Cdt",
            " Merci d'avance",
            " {n}",
            " Bien à vous.",
            "",
        ],
        "complaint": [
            " C'est inadmissible.",
            " Je vais résilier.",
            " Franchement déçu.",
            " Je vais en parler sur Twitter.",
            " 😡",
            " #fail",
            " 🤬🤬",
            " Ras le bol !!",
            " Merci de faire le nécessaire.",
            " Je suis à bout.",
            " J'en ai marre.",
            " Lamentable.",
            " #arnaque",
            " 😤",
        ],
        "compliment": [
            " 😍",
            " Merci encore !",
            " #merci",
            " 👏👏",
            " Au top !",
            " 🥰",
            " Vraiment bravo.",
            " ❤️",
        ],
        "purchase_intent": [
            " Merci !",
            " 🛒",
            " C'est urgent je suis pressé 😄",
            " Je suis prêt à commander.",
            "",
        ],
        "question": [" ?", " svp", " Merci d'avance 🙏", " Bonne journée", ""],
        "information": [" Merci.", " Bonne journée.", " Cordialement", ""],
        "other": [" mdr", " lol", " 😂", " #Info", " ...", " !!", ""],
    },
    "en": {
        "open": [
            "Hi, ",
            "Hi {m} ",
            "{m} ",
            "{m} ",
            "Hello, ",
            "Hey ",
            "Good evening, ",
            "Dear Sir or Madam, ",
            "Re: ",
            "cc {m} ",
            "yo ",
            "",
        ],
        "close": [
            " Thanks.",
            " Regards, {n}",
            " Have a nice day",
            " Cheers",
            " Thanks in advance",
            " {n}",
            " Kind regards.",
            "",
        ],
        "complaint": [
            " Unacceptable.",
            " I'm cancelling.",
            " So disappointed.",
            " Going to post about this on Twitter.",
            " 😡",
            " #fail",
            " 🤬🤬",
            " Fed up!!",
            " Please sort this out.",
            " I'm at my wits' end.",
            " Sick of this.",
            " Pathetic.",
            " #scam",
            " 😤",
        ],
        "compliment": [
            " 😍",
            " Thanks again!",
            " #thankyou",
            " 👏👏",
            " Top notch!",
            " 🥰",
            " Well done.",
            " ❤️",
        ],
        "purchase_intent": [" Thanks!", " 🛒", " Kind of in a hurry 😄", " Ready to order.", ""],
        "question": [" ?", " pls", " Thanks in advance 🙏", " Have a good day", ""],
        "information": [" Thanks.", " Have a good day.", " Regards", ""],
        "other": [" lol", " lmao", " 😂", " #news", " ...", " !!", ""],
    },
}

SMS: dict[str, list[tuple[str, str]]] = {
    "fr": [
        ("je suis", "jsuis"),
        ("s'il vous plaît", "svp"),
        ("pourquoi", "pk"),
        ("c'est", "c"),
        ("beaucoup", "bcp"),
        ("quoi", "koi"),
        ("aujourd'hui", "auj"),
        ("je ne sais pas", "jsp"),
        ("toujours", "tjrs"),
        ("rendez-vous", "rdv"),
        ("merci", "mci"),
        ("vous", "vs"),
        ("quand", "qd"),
        ("Est-ce que", "Est ce que"),
    ],
    "en": [
        ("you", "u"),
        ("are", "r"),
        ("please", "pls"),
        ("thanks", "thx"),
        ("because", "bc"),
        ("to be honest", "tbh"),
        ("I don't know", "idk"),
        ("tomorrow", "tmrw"),
        ("message", "msg"),
        ("your", "ur"),
        ("really", "rly"),
        ("I'm", "im"),
        ("don't", "dont"),
        ("can't", "cant"),
    ],
}


def order_number(rng: random.Random) -> str:
    digits = rng.randint(10000, 999999)
    forms = [
        f"CMD-{digits}",
        f"#{digits}",
        f"n°{digits}",
        f"A{digits}B",
        f"{rng.randint(1000, 9999)}-{rng.randint(100, 999)}",
        f"FR{digits}",
        f"no. {digits}",
    ]
    return rng.choice(forms)


def amount(rng: random.Random, language: str) -> str:
    euros = rng.choice([9.99, 12, 29.9, 49, 59.99, 89, 120, 199, 349.5, 1200])
    if language == "fr":
        return rng.choice(
            [f"{euros:.2f} €".replace(".", ","), f"{int(euros)}€", f"{int(euros)} euros"]
        )
    return rng.choice([f"£{euros:.2f}", f"${int(euros)}", f"€{int(euros)}", f"{int(euros)} quid"])


def fill(template: str, language: str, rng: random.Random) -> str:
    slots = SLOTS[language]

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "o":
            return order_number(rng)
        if key == "a":
            return amount(rng, language)
        if key == "d":
            return str(rng.randint(2, 21))
        if key == "ag":
            return rng.choice(slots["c"])
        return rng.choice(slots[key])

    return re.sub(r"\{(\w+)\}", replace, template)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(len(w) - 1)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if rng.random() < 0.6 else w[:j] + w[j + 1 :]
    return " ".join(words)


def roughen(text: str, language: str, rng: random.Random) -> str:
    if rng.random() < 0.35:
        for formal, casual in SMS[language]:
            text = re.sub(rf"\b{re.escape(formal)}\b", casual, text, flags=re.IGNORECASE)
    if rng.random() < 0.3:
        text = typo(text, rng)
    if language == "fr" and rng.random() < 0.2:
        text = strip_accents(text)
    if rng.random() < 0.25:
        text = text.lower()
    if rng.random() < 0.1:
        text = text.rstrip(".!?")
    return text


TONE_OF_ENDINGS = {"complaint": "negative", "compliment": "positive"}


def wrap(
    body: str, kind: str, sentiment: str, language: str, rng: random.Random
) -> tuple[str, str]:
    """The body as an email or a post; an ending that shows a mood sets the sentiment."""
    words = WRAPS[language]
    ending = rng.choice(words[kind]) if rng.random() < 0.5 else ""
    if ending.strip():
        sentiment = TONE_OF_ENDINGS.get(kind, sentiment)
    if rng.random() < 0.2:  # an email
        opening = "Bonjour," if language == "fr" else "Hello,"
        closing = rng.choice(words["close"][:3])
        return fill(f"{opening} {body}{ending}{closing}", language, rng), sentiment
    text = body + ending
    if rng.random() < 0.6:
        text = rng.choice(words["open"]) + text
    if rng.random() < 0.15:
        text += rng.choice(words["close"])
    return fill(text, language, rng), sentiment


SECOND_BATCH = "# batch 2"  # the line in templates/*.txt before the second batch of templates


def second_batch_start(language: str) -> int:
    """The number of the first template of the second batch (the held-out register)."""
    count = 0
    for line in (HERE / "templates" / f"{language}.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(SECOND_BATCH):
            return count
        if line.strip() and not line.startswith("#"):
            count += 1
    return count


def read_templates(language: str) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    kind = ""
    for line in (HERE / "templates" / f"{language}.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            kind = line[3:].strip()
        elif line.strip() and not line.startswith("#"):
            mark, text = line.split("|", 1)
            rows.append((kind, SENTIMENTS[mark.strip()], text.strip()))
    return rows


def build_rows(seed: int = SEED) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for language in ("fr", "en"):
        for number, (kind, sentiment, template) in enumerate(read_templates(language)):
            for index in range(VARIANTS):
                text, mood = fill(template, language, rng), sentiment
                if index:
                    text, mood = wrap(text, kind, sentiment, language, rng)
                    text = roughen(text, language, rng)
                text = " ".join(text.split())
                if text.lower() in seen:
                    continue
                seen.add(text.lower())
                rows.append(
                    {
                        "text": text,
                        "language": language,
                        "type": kind,
                        "sentiment": mood,
                        "template": f"{language}-{number}",
                    }
                )
    return rows


def main() -> None:
    rows = build_rows()
    with OUTPUT.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} examples written to {OUTPUT}")


if __name__ == "__main__":
    main()
