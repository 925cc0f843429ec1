"""Triage: what an agent sees on a message (language, type, sentiment, signals, priority), the
``filrouge triage`` commands, and the model's figures on the public evaluation data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import shared_data

from filrouge.triage import select
from filrouge.triage.classifier import LinearTriage
from filrouge.triage.corpus import load_corpus
from filrouge.triage.evaluate import evaluate, read_complaints, read_sentiment
from filrouge.triage.model import negated, train
from filrouge.triage.store import load_model
from filrouge.triage.types import FIELDS, PRIORITIES, SENTIMENTS, TYPES, Context
from live_server import seed_triage_model


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the model trained once for this test run."""
    data_dir = tmp_path_factory.mktemp("triage")
    seed_triage_model(data_dir)
    return data_dir


@pytest.fixture(scope="module")
def classifier(trained_dir: Path) -> LinearTriage:
    return LinearTriage.from_data_dir(trained_dir)


@pytest.fixture
def data_dir(trained_dir: Path, tmp_path: Path) -> Path:
    """A fresh data directory with the trained model in it (the commands need not train)."""
    copy = tmp_path / "var"
    shutil.copytree(trained_dir, copy)
    return copy


def one(classifier: LinearTriage, text: str, context: Context | None = None):
    return classifier.classify([text], context)[0]


@pytest.mark.parametrize(
    ("text", "language", "kind", "sentiment"),
    [
        (
            "Ça fait trois semaines que j'attends mon remboursement, c'est honteux",
            "fr",
            "complaint",
            "negative",
        ),
        (
            "Un grand merci à Aurélie pour sa gentillesse, problème réglé !",
            "fr",
            "compliment",
            "positive",
        ),
        (
            "Bonjour, à quelle heure ouvre la boutique de Rouen le dimanche ?",
            "fr",
            "question",
            "neutral",
        ),
        (
            "Je voudrais commander deux matelas, vous livrez à Angers ?",
            "fr",
            "purchase_intent",
            "neutral",
        ),
        (
            "The screen of my new tablet is cracked and support keeps ignoring me",
            "en",
            "complaint",
            "negative",
        ),
        (
            "Brilliant service today, the staff in Leeds were so helpful, thank you!",
            "en",
            "compliment",
            "positive",
        ),
        ("Hello, how can I update the email address on my account?", "en", "question", "neutral"),
        (
            "I'd like to buy the premium plan for my whole family",
            "en",
            "purchase_intent",
            "neutral",
        ),
    ],
)
def test_it_labels_clear_messages_in_french_and_english(
    classifier, text, language, kind, sentiment
):
    found = one(classifier, text)
    assert (found.language, found.type, found.sentiment) == (language, kind, sentiment)
    assert "language_uncertain" not in found.signals


def test_the_sentiment_score_runs_from_negative_to_positive(classifier):
    angry, calm, happy = classifier.classify(
        [
            "Service nul, colis perdu, je suis furieux 😡",
            "Où trouver ma facture ?",
            "Merci, c'est parfait ❤️",
        ]
    )
    assert -1 <= angry.sentiment_score < calm.sentiment_score < happy.sentiment_score <= 1
    assert abs(calm.sentiment_score) < 0.35


@pytest.mark.parametrize(
    ("liked", "disliked"),
    [
        ("I am happy with the delivery", "I am not happy with the delivery"),
        ("Je suis content du service", "Je ne suis pas content du service"),
    ],
)
def test_a_negation_turns_the_sentiment_round(classifier, liked, disliked):
    plain, negated = classifier.classify([liked, disliked])
    assert (plain.sentiment, negated.sentiment) == ("positive", "negative")


def test_the_words_after_a_negation_are_marked_up_to_the_punctuation():
    tokens = ["je", "ne", "suis", "pas", "content", ",", "merci"]
    assert negated(tokens) == ["¬content"]
    assert negated(["don", "'", "t", "like", "it", "."]) == ["¬like", "¬it"]


@pytest.mark.parametrize("text", ["📦📦", "📱", "🚆 🚆"])
def test_a_message_of_emoji_without_a_mood_is_neutral(classifier, text):
    found = one(classifier, text)
    assert (found.type, found.sentiment) == ("other", "neutral")


@pytest.mark.parametrize(
    "text",
    [
        "@Telcio_Aide wsh ça fait 10 jours que j'ai plus de réseau, c'est abusé",
        "chui grave vénère, colis paumé et personne répond 😤",
    ],
)
def test_a_french_complaint_in_slang_is_a_complaint(classifier, text):
    found = one(classifier, text)
    assert (found.language, found.type, found.sentiment) == ("fr", "complaint", "negative")


def test_a_lone_message_scores_as_in_a_batch_over_the_whole_corpus(classifier):
    """A lone message is scored from the model's numbers (``triage/lone.py``), a batch by
    scikit-learn: the same type and the same sentiment probabilities for every corpus line,
    in both languages, and the same triage for a few lines alone and in a batch."""
    model = classifier.model
    examples = load_corpus()
    texts = [e.text for e in examples]
    languages = [e.language for e in examples]
    batch = model._predict(texts, languages)  # several texts: scikit-learn's path
    matrix = model.features(texts, languages)
    probabilities = model.sentiment_model.predict_proba(matrix)
    decisions = model.type_model.decision_function(matrix)
    disagreements = []
    for index, (text, language) in enumerate(zip(texts, languages, strict=True)):
        scored = model._scored_alone(text, language)
        assert scored is not None, text
        kinds, moods = scored
        assert abs(moods[0] - probabilities[index]).max() < 1e-5, text
        top, second = sorted(decisions[index])[-2:]
        if kinds[0] != batch[index].type:
            disagreements.append(text)
            assert top - second < 1e-5, text  # only a tie may fall either way
    assert len(disagreements) <= 1
    for text in texts[:: len(texts) // 40]:
        alone = classifier.classify([text])[0]
        together = classifier.classify([text, "Bonjour, une question sur ma facture"])[0]
        assert (alone.type, alone.sentiment) == (together.type, together.sentiment), text
        assert abs(alone.sentiment_score - together.sentiment_score) < 1e-5, text


def test_the_held_out_splits_keep_each_template_on_one_side():
    corpus = load_corpus()
    for held in select.SPLITS.values():
        training, held_out = select.split(corpus, held)
        assert training
        assert held_out
        assert not {e.group for e in training} & {e.group for e in held_out}


def test_an_empty_message_gets_the_defaults(classifier):
    for text in ("", "   ", "\t"):
        found = one(classifier, text)
        assert found.as_dict() == {
            "language": "fr",
            "type": "other",
            "sentiment": "neutral",
            "sentiment_score": 0.0,
            "priority": "low",
            "signals": ["language_uncertain"],
        }


@pytest.mark.parametrize("text", ["😀😀😀", "🙏", "👍🏽", "12345", "?!", "06 12 34 56 78"])
def test_a_message_of_emoji_or_digits_only_gets_the_first_language_flagged_uncertain(
    classifier, text
):
    found = one(classifier, text)
    assert found.language == "fr"
    assert "language_uncertain" in found.signals
    assert found.type in TYPES
    assert found.sentiment in SENTIMENTS
    assert found.priority in PRIORITIES


def test_a_message_in_an_unsupported_language_gets_a_workspace_language(classifier):
    japanese, german = classifier.classify(
        ["注文した商品がまだ届きません", "Ich möchte mein Abo kündigen"]
    )
    assert japanese.language == "fr"
    assert "language_uncertain" in japanese.signals
    assert german.language in ("fr", "en")


def test_a_workspace_with_one_language_answers_that_language(classifier):
    english_only = LinearTriage(classifier.model, ["en"])
    assert one(english_only, "Bonjour, où est mon colis ?").language == "en"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Si ce n'est pas réglé demain je vais résilier", "threat_to_leave"),
        ("Fix it or I'm cancelling my contract", "threat_to_leave"),
        ("Je vais en parler sur twitter, tout le monde doit savoir", "threat_to_go_public"),
        ("I'll post this on Facebook so people know", "threat_to_go_public"),
        ("Mon avocat va vous contacter", "legal"),
        ("Je vous adresse une mise en demeure", "legal"),
        ("My lawyer will be in touch", "legal"),
        ("La bouilloire m'a fait une brûlure à la main", "safety"),
        ("Début d'incendie à cause de votre chargeur", "safety"),
        ("The heater caught fire last night", "safety"),
    ],
)
def test_it_flags_urgency_words(classifier, text, signal):
    assert signal in one(classifier, text).signals


def test_it_flags_nothing_in_a_plain_message(classifier):
    assert one(classifier, "Bonjour, merci pour la livraison rapide").signals == ()


def test_context_adds_public_reach_vip_and_repeat_contact(classifier):
    context = Context(public=True, followers=25_000, vip=True, recent_contacts=4)
    found = one(classifier, "Où en est ma commande ?", context)
    assert found.signals == ("public", "high_reach", "vip", "repeat_contact")
    quiet = one(classifier, "Où en est ma commande ?", Context(followers=200, recent_contacts=2))
    assert quiet.signals == ()


def test_priority_follows_the_documented_rule(classifier):
    texts = [
        "Merci pour votre aide, super service",
        "Comment changer mon adresse ?",
        "Mon colis n'est jamais arrivé, c'est nul, je vais résilier",
        "Le chargeur a pris feu",
        "Colis perdu, mon avocat vous enverra une mise en demeure",
    ]
    thanks, question, leaving, fire, lawyer = classifier.classify(texts)
    assert thanks.priority == "low"
    assert question.priority == "normal"
    assert leaving.priority == "high"
    assert fire.priority == "urgent"
    assert lawyer.priority == "urgent"
    vip = one(classifier, texts[2], Context(vip=True))
    assert vip.priority == "urgent"


def test_it_takes_one_context_per_text_or_one_for_all(classifier):
    found = classifier.classify(
        ["Où est mon colis ?", "Où est mon colis ?"], [Context(vip=True), Context()]
    )
    assert [f.signals for f in found] == [("vip",), ()]
    with pytest.raises(ValueError, match="one context per text"):
        classifier.classify(["a", "b"], [Context()])


def test_training_twice_gives_the_same_model(trained_dir):
    """The model this run trained first (in whichever worker needed it first) and a second
    training from the same corpus, here: the same coefficients."""
    first, second = load_model(trained_dir), train(load_corpus())
    assert (first.type_model.coef_ == second.type_model.coef_).all()
    assert (first.sentiment_model.coef_ == second.sentiment_model.coef_).all()


def test_the_corpus_has_several_hundred_examples_of_each_type_in_each_language():
    corpus = load_corpus()
    for language in ("fr", "en"):
        for kind in TYPES:
            assert sum(e.language == language and e.type == kind for e in corpus) >= 250
        for mood in SENTIMENTS:
            assert sum(e.language == language and e.sentiment == mood for e in corpus) >= 250


def test_the_corpus_copies_no_line_of_the_evaluation_data():
    root = shared_data("triage")
    evaluation = set(read_complaints(root).texts)
    for language in ("fr", "en"):
        for split in ("train", "val"):
            evaluation.update(read_sentiment(root, language, split).texts)
    evaluation = {" ".join(t.lower().split()) for t in evaluation}
    assert not {" ".join(e.text.lower().split()) for e in load_corpus()} & evaluation


# The command line, run as a user runs it.


def run(args: list[str], data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FILROUGE_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "filrouge.cli", "triage", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_classify_writes_one_json_object_per_line_with_exactly_the_fields(data_dir):
    lines = ["Je vais résilier, c'est honteux", "", "😡", "Thanks, great job!", "こんにちは"]
    done = run(["classify"], data_dir, "\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == len(lines)
    assert all(list(row) == list(FIELDS) for row in rows)
    assert rows[0]["type"] == "complaint"
    assert "threat_to_leave" in rows[0]["signals"]
    assert rows[1]["signals"] == ["language_uncertain"]
    assert rows[3]["language"] == "en"
    assert rows[3]["sentiment"] == "positive"


def test_classify_limits_languages_to_those_given(data_dir):
    done = run(["classify", "--languages", "en"], data_dir, "Bonjour, où est mon colis ?\n")
    assert json.loads(done.stdout)["language"] == "en"
    refused = run(["classify", "--languages", "fr,xx"], data_dir, "Bonjour\n")
    assert refused.returncode != 0
    assert "unknown language code" in refused.stderr


def test_retrain_with_corrections_changes_a_prediction(data_dir):
    text = "Merci beaucoup pour la livraison, parfait"
    before = json.loads(run(["classify"], data_dir, text + "\n").stdout)
    assert before["type"] == "compliment"
    corrections = data_dir / "corrections.jsonl"
    corrections.write_text(
        json.dumps({"text": text, "type": "information", "sentiment": "neutral"}) + "\n",
        encoding="utf-8",
    )
    done = run(["retrain", "--corrections", str(corrections)], data_dir)
    assert done.returncode == 0, done.stderr
    assert "1 corrections" in done.stdout
    after = json.loads(run(["classify"], data_dir, text + "\n").stdout)
    assert (after["type"], after["sentiment"]) == ("information", "neutral")


def test_retrain_refuses_a_corrections_file_with_an_unknown_label(data_dir):
    corrections = data_dir / "bad.jsonl"
    corrections.write_text(json.dumps({"text": "bonjour", "type": "rant"}) + "\n", encoding="utf-8")
    done = run(["retrain", "--corrections", str(corrections)], data_dir)
    assert done.returncode != 0
    assert "bad.jsonl:1: unknown type or sentiment" in done.stderr


# The figures docs/TRIAGE.md reports, on the public data (never trained on, never tuned on).
# The goal met (language) is asserted as a goal; the others are not met, so their floors (a
# little under today's figures) catch a regression.
FLOORS = {
    "language_accuracy": 0.99,
    "complaint_f1": 0.60,
    "sentiment_macro_f1_en_val": 0.56,
    "sentiment_macro_f1_fr_val": 0.44,
}


def test_the_figures_on_the_public_data_hold(classifier):
    figures = evaluate(classifier, shared_data("triage"), splits=("val",))
    for name, floor in FLOORS.items():
        assert figures[name] >= floor, (name, figures[name])
