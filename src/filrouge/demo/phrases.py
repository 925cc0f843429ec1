"""The people and the words of the demo: customers with their names, addresses and handles, and
what everyone writes, in French and in English. Every text here is original to this project.

Texts are kept as plain blocks, easy to read and to extend: ``## name`` opens a section, a line
starting with spaces continues the previous one, and in a topic's section each customer opening
is followed by ``> `` and the first answer it calls for. Placeholders: ``{order}``,
``{product}``, ``{store}``, ``{days}``, ``{amount}``, ``{first_name}``.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


def words(block: str) -> tuple[str, ...]:
    return tuple(block.split())


def sections(block: str) -> dict[str, tuple[str, ...]]:
    """Parse a text block into its sections of lines (see the module docstring)."""
    parsed: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in block.strip().splitlines():
        if raw.startswith("## "):
            current = parsed.setdefault(raw[3:].strip(), [])
        elif raw.startswith(" ") and raw.strip():
            current[-1] = f"{current[-1]} {raw.strip()}"
        elif raw.strip():
            current.append(raw.strip())
    return {name: tuple(lines) for name, lines in parsed.items()}


FR_FIRST = words("""
    Camille Léa Manon Chloé Inès Jade Louise Alice Juliette Zoé Sarah Emma Anaïs Claire Élodie
    Nathalie Isabelle Sylvie Hélène Margaux Lucas Hugo Louis Gabriel Arthur Jules Théo Nathan
    Antoine Maxime Julien Nicolas Mathieu Olivier Pierre Karim Mehdi Yanis Bastien Rémi""")
FR_LAST = words("""
    Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèvre
    Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Mercier Dupont Lambert
    Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel
    Perrin Benali Nguyen Haddad""")
EN_FIRST = words("""
    Olivia Amelia Emily Charlotte Grace Sophie Hannah Lucy Megan Jack Oliver Harry George James
    William Daniel Liam Noah Ethan Rachel""")
EN_LAST = words("""
    Smith Jones Taylor Brown Williams Wilson Johnson Davies Evans Walker Wright Thompson Roberts
    Hughes Clarke Murphy O'Brien Kelly Campbell Stewart""")
FR_CITIES = words("""
    Lyon Paris Bordeaux Villeurbanne Mérignac Marseille Lille Nantes Toulouse Rennes Grenoble
    Annecy Versailles Montreuil Strasbourg Arcachon Pessac Saint-Étienne""")
EN_CITIES = words("London Manchester Dublin Edinburgh Brussels Geneva Paris Lyon Bordeaux")
AGE_BANDS = {"18-24": 8, "25-34": 26, "35-44": 25, "45-54": 19, "55-64": 13, "65+": 9}
EMAIL_DOMAINS = ("example.fr", "example.com", "example.net", "example.org")
STORES = ("Lyon", "Paris", "Bordeaux")
# French | English. The article is part of the name, so no template has to agree in gender.
PRODUCTS = tuple(
    tuple(line.split(" | "))
    for line in sections("""
## products
la lampe Alba en laiton | the Alba brass lamp
le plaid en lin lavé | the washed linen throw
le lot de six verres Brume | the set of six Brume glasses
la suspension Opaline | the Opaline pendant light
le miroir rond Soleil | the round Soleil mirror
la parure de lit en percale | the percale bedding set
le vase en grès Terre | the Terre stoneware vase
la bougie parfumée Figuier | the Figuier scented candle
le tapis berbère Atlas | the Atlas berber rug
le coussin en velours côtelé | the corduroy cushion
la table d'appoint en chêne clair | the light oak side table
le service de table Calanque | the Calanque dinner set
la guirlande lumineuse Étoile | the Étoile string lights
le fauteuil en rotin Riviera | the Riviera rattan armchair
""")["products"]
)

FRENCH = sections("""
## question
Est-ce que {product} existe dans une autre couleur ? Je ne vois que la teinte naturelle.
> Deux autres teintes sont proposées, blanc cassé et terracotta, uniquement en ligne.
Comment entretenir {product} ? La notice ne dit rien sur le nettoyage.
> Un chiffon doux légèrement humide suffit ; évitez les produits abrasifs. Les conseils
  d'entretien sont aussi dans l'onglet « Détails » de la fiche.
Une date de retour en stock est-elle prévue pour {product} ?
> Bonne nouvelle : le réassort est prévu d'ici {days} jours. Activez l'alerte sur la fiche
  produit pour être prévenu par e-mail.
Est-il possible de payer en trois fois pour un panier de {amount} € ?
> Oui : cochez l'option au moment du paiement, elle est proposée dès 150 € d'achat.
## order_problem
J'ai reçu ma commande {order} mais il y avait de la casse : {product} est inutilisable.
> Toutes nos excuses. Pourriez-vous nous envoyer une photo de l'article et du colis ? Nous vous
  renverrons un article neuf dès réception.
Ma commande {order} est incomplète, il manque {product}.
> Désolés pour cet oubli : l'article manquant part aujourd'hui, vous recevrez le suivi par
  e-mail.
Je vois un double prélèvement de {amount} € pour la commande {order}. Pouvez-vous vérifier ?
> J'ai vérifié : le second montant est une pré-autorisation, annulée automatiquement sous
  72 heures.
## delivery
Ma commande {order} devait arriver il y a {days} jours et le suivi ne bouge plus.
> J'ai contacté le transporteur : le colis est bloqué au centre de tri et devrait repartir
  demain. Je garde un œil sur le suivi.
Le transporteur indique que le colis {order} est livré, mais je n'ai rien reçu.
> Nous avons ouvert une enquête auprès du transporteur. Sans réponse sous 48 heures, nous vous
  renverrons la commande ou vous rembourserons, comme vous préférez.
Peut-on changer l'adresse de livraison de la commande {order} ? Je ne serai pas chez moi
  cette semaine.
> C'est fait : l'adresse de livraison de la commande {order} a bien été modifiée.
## return
Je souhaite retourner {product} (commande {order}), la teinte ne ressemble pas aux photos.
> Le retour est gratuit sous 30 jours : l'étiquette est dans votre espace client, rubrique
  « Mes commandes ».
J'ai renvoyé mon colis il y a {days} jours et je n'ai toujours pas reçu le remboursement de
  {amount} €.
> Votre retour est bien arrivé à l'entrepôt. Le remboursement de {amount} € est lancé et
  apparaîtra sous 3 à 5 jours ouvrés.
Puis-je rapporter au magasin de {store} un article commandé en ligne ({order}) ?
> Bien sûr, le magasin de {store} reprend les commandes en ligne. Pensez à apporter votre
  numéro de commande.
## complaint
Quelle déception : {product} a perdu sa couleur après deux lavages.
> Merci de nous avoir signalé ce défaut. Pourriez-vous nous envoyer une photo ? Nous vous
  proposerons un échange ou un remboursement.
J'attends une réponse depuis {days} jours au sujet de la commande {order}. Ce n'est pas sérieux.
> Je comprends votre agacement et vous présente nos excuses pour ce délai. Je vous propose un
  bon d'achat de 15 € valable sur tout le site.
Accueil très désagréable samedi au magasin de {store}, personne n'a pu me renseigner.
> Nous sommes sincèrement désolés. J'ai transmis votre message à la responsable du magasin de
  {store}, qui reviendra vers vous.
## compliment
Je voulais vous remercier : {product} est superbe et la livraison a été rapide.
> Quel plaisir de vous lire ! Je transmets vos compliments à toute l'équipe.
Un grand merci à l'équipe du magasin de {store} pour ses conseils samedi dernier !
> Merci pour ce gentil message, l'équipe de {store} sera ravie de le lire.
## store
Quels sont les horaires du magasin de {store} le dimanche ?
> Le magasin de {store} est ouvert le dimanche de 11 h à 18 h.
Avez-vous {product} en stock dans votre magasin de {store} ?
> Il en reste quelques exemplaires à {store}. Je peux en réserver pour vous pendant 48 heures
  si vous le souhaitez.
Puis-je retirer ma commande {order} au magasin de {store} plutôt qu'en livraison ?
> Oui, le retrait en magasin est gratuit : vous recevrez un SMS dès que le colis sera prêt.
## public question
Il existe une version blanche pour {product} ?
> Pas encore, mais elle arrive au printemps !
## public delivery
Toujours pas reçu ma commande {order}, quelqu'un peut m'aider ?
> Désolés pour l'attente, nous regardons ça tout de suite.
{days} jours que j'attends mon colis… c'est normal ?
> Ce n'est pas normal, nous allons vérifier.
## public complaint
Votre service client ne répond plus depuis {days} jours. Vraiment déçu(e).
> Toutes nos excuses pour ce silence, nous revenons vers vous.
Colis arrivé écrasé, {product} en morceaux. Super…
> Navrés de voir ça ! Nous allons arranger les choses.
## public compliment
Coup de cœur pour {product}, merci pour cette jolie trouvaille !
> Merci beaucoup, ça fait plaisir à toute l'équipe !
## public store
Le magasin de {store} est ouvert ce dimanche ?
> Oui, de 11 h à 18 h. À bientôt !
## nudge
Je me permets de relancer, je n'ai toujours pas de nouvelles.
Mon numéro de commande est le {order}, au cas où.
Petite précision : c'est assez urgent pour moi.
## answer
Merci pour votre réponse. Avez-vous du nouveau ?
Voici les photos, j'espère que ce sera suffisant.
D'accord, merci. Et pour les frais de retour, comment ça se passe ?
Très bien, j'attends alors. Merci de me tenir au courant.
## public nudge
Quelqu'un peut me répondre ?
Toujours aucune réponse…
## public answer
Merci pour la réponse !
Top, merci !
## called
Rappel au sujet de la commande {order}, suite au message écrit.
## switched
Comme convenu, je vous écris ici. Ma commande : {order}.
Je passe par ici, c'est plus simple pour moi. C'est au sujet de la commande {order}.
## more
Merci pour ces précisions, je regarde et je reviens vers vous rapidement.
C'est réglé de notre côté. Avez-vous besoin d'autre chose ?
Sans nouvelles de votre part, nous clôturerons cette demande dans quelques jours.
C'est noté, merci pour votre patience.
## redirect
Écrivez-nous en message privé, ce sera plus simple pour vous répondre.
Pouvez-vous nous contacter en privé ? Nous trouverons une solution ensemble.
## subjects
question | Question sur {product}
order_problem | Problème avec ma commande {order}
delivery | Livraison de la commande {order}
return | Demande de retour
complaint | Réclamation
compliment | Merci !
store | Magasin de {store}
## closing
Cordialement,
Bien à vous,
Merci d'avance,
## agent closing
Belle journée,
Bien cordialement,
À bientôt,
## notes
question | Question transmise à l'équipe produit.
question | Vérifier le stock réel à {store} avant de confirmer.
order_problem | Photos reçues, casse confirmée. Renvoi validé.
order_problem | Remboursement de {amount} € validé dans le back-office.
delivery | Transporteur relancé, réponse attendue sous 48 h.
delivery | Enquête ouverte chez le transporteur pour {order}.
return | Retour {order} reçu à l'entrepôt, contrôle qualité OK.
return | Remboursement de {amount} € validé dans le back-office.
complaint | Compte fidèle (plus de 10 commandes) : geste commercial possible.
complaint | Même souci signalé le mois dernier, voir l'historique.
compliment | Message transmis à l'équipe du magasin de {store}.
store | Vérifier le stock réel à {store} avant de confirmer.
store | Magasin de {store} prévenu de la demande.
store | """)
ENGLISH = sections("""
## question
Does {product} come in another colour?
> It also comes in off-white and terracotta, online only.
Will {product} be back in stock soon?
> Good news: it's due back within {days} days. You can set an e-mail alert on the product page.
## order_problem
Order {order} arrived but {product} was broken in the box.
> We're very sorry. Could you send us a photo of the item and the box? We'll ship a
  replacement as soon as we receive it.
I've been charged {amount} € twice for order {order}.
> I've checked: the second amount is a pre-authorisation that will drop off within 72 hours.
## delivery
Order {order} was due {days} days ago and the tracking hasn't moved.
> I've contacted the courier: the parcel is held at the sorting centre and should move
  tomorrow.
The courier says parcel {order} was delivered, but nothing came.
> We've opened an inquiry with the courier and will resend or refund within 48 hours,
  whichever you prefer.
## return
I'd like to return {product} (order {order}); the colour is nothing like the photos.
> Returns are free within 30 days: the label is in your account under “My orders”.
Can I bring an online order ({order}) back to the {store} store?
> Of course, the {store} store accepts online orders. Just bring your order number.
## complaint
Really disappointed: {product} faded after two washes.
> Thank you for letting us know. Could you send a photo? We'll offer an exchange or a refund.
I've been waiting {days} days for an answer about order {order}.
> I'm sorry for the delay. I'd like to offer you a 15 € voucher for the whole site.
## compliment
Just wanted to say thank you: {product} is gorgeous and delivery was quick.
> What a lovely message! I'll pass your kind words on to the team.
## store
What are the Sunday opening hours of the {store} store?
> The {store} store is open on Sundays from 11 am to 6 pm.
Can I collect order {order} at the {store} store instead?
> Yes, click and collect is free: you'll get a text when the parcel is ready.
## public question
Is there a white version of {product}?
> Not yet, it's coming in spring!
## public delivery
Still no sign of order {order}, can anyone help?
> Sorry for the wait, we're looking into it now.
## public complaint
No reply from customer service for {days} days. Poor.
> Apologies for the silence, we'll get back to you right away.
## public compliment
In love with {product}, thank you!
> Thank you so much!
## public store
Is the {store} store open this Sunday?
> Yes, from 11 am to 6 pm!
## nudge
Just following up, I still haven't heard anything.
My order number is {order}, in case it helps.
## answer
Thanks for getting back to me. Any news?
Here are the photos.
OK, thanks. And who pays for the return postage?
## public nudge
Anyone there?
Still no answer…
## public answer
Thanks for the reply!
Great, thank you!
## called
Calling about order {order}, following up on the written message.
## switched
As agreed, I'm writing here. My order is {order}.
Easier for me to reach you here. It's about order {order}.
## more
Thanks for the details, I'm looking into it and will be back to you shortly.
All sorted on our side. Is there anything else we can do for you?
If we don't hear back, we'll close this request in a few days.
## redirect
Could you send us a private message? It'll be easier to help you there.
## subjects
question | Question about {product}
order_problem | Problem with order {order}
delivery | Delivery of order {order}
return | Return request
complaint | Complaint
compliment | Thank you!
store | {store} store
## closing
Best regards,
Thanks,
Kind regards,
## agent closing
Have a lovely day,
Best wishes,
Kind regards,
""")
TEXTS = {"fr": FRENCH, "en": ENGLISH}
TOPICS = {
    "question": 22,
    "order_problem": 18,
    "delivery": 16,
    "return": 12,
    "complaint": 12,
    "compliment": 8,
    "store": 12,
}
PUBLIC_TOPICS = {"question": 20, "delivery": 30, "complaint": 25, "compliment": 15, "store": 10}
TOPIC_TAGS = {
    "question": ("produit", "conseil"),
    "order_problem": ("commande", "casse"),
    "delivery": ("livraison", "transporteur"),
    "return": ("retour", "remboursement"),
    "complaint": ("réclamation", "qualité"),
    "compliment": ("compliment",),
    "store": ("magasin", "retrait en magasin"),
}
GREETING = {"fr": "Bonjour", "en": "Hello"}
BANG = {"fr": " ! ", "en": "! "}  # French puts a space before "!"
CALL = {"fr": ("Appel entrant : ", "Rappel effectué : "), "en": ("Call: ", "Called back: ")}
MENTIONS = {"x": "@MaisonLumiere ", "facebook_comments": ""}  # public: no greeting, no closing
LETTER_CHANNELS = frozenset({"email", "web_form"})


# --- People ---------------------------------------------------------------------------------


@dataclass
class PlannedCustomer:
    name: str
    first_name: str
    language: str
    vip: bool
    created_at: datetime
    attributes: dict[str, Any]
    identities: dict[str, tuple[str, bool]] = field(default_factory=dict)  # kind: value, verified


def plan_customers(rng: random.Random, now: datetime, count: int) -> list[PlannedCustomer]:
    customers = [plan_customer(rng, now) for _ in range(count)]
    _dedupe_identities(customers)
    return customers


def plan_customer(rng: random.Random, now: datetime) -> PlannedCustomer:
    english = rng.random() < 0.18
    first = rng.choice(EN_FIRST if english else FR_FIRST)
    last = rng.choice(EN_LAST if english else FR_LAST)
    language, vip = ("en" if english else "fr"), rng.random() < 0.08
    city = rng.choice(EN_CITIES if english else FR_CITIES)
    age_band = rng.choices(list(AGE_BANDS), list(AGE_BANDS.values()))[0]
    attributes = {"city": city, "vip": vip, "language": language, "age_band": age_band}
    since = now - timedelta(days=rng.uniform(95, 900))
    customer = PlannedCustomer(f"{first} {last}", first, language, vip, since, attributes)
    customer.identities["email"] = (_email_address(rng, first, last), True)
    if rng.random() < 0.75:
        phone = _phone_number(rng, english)
        customer.identities["phone"] = (phone, rng.random() < 0.6)
        if rng.random() < 0.55:
            customer.identities["whatsapp"] = (phone, True)
    _add_social_identities(rng, customer.identities, first, last)
    return customer


def slug(text: str) -> str:
    """ASCII, lower case, letters and digits only: ``Hélène O'Brien`` gives ``heleneobrien``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in plain.lower() if char.isalnum())


def _email_address(rng: random.Random, first: str, last: str) -> str:
    first, last = slug(first), slug(last)
    forms = (f"{first}.{last}", f"{first[0]}{last}", f"{first}{last}{rng.randint(1, 99)}")
    return f"{rng.choice(forms)}@{rng.choice(EMAIL_DOMAINS)}"


def _phone_number(rng: random.Random, english: bool) -> str:
    if english and rng.random() < 0.5:
        return f"+447{rng.randrange(10**9):09d}"
    return f"+33{rng.choice('67')}{rng.randrange(10**8):08d}"


def _add_social_identities(
    rng: random.Random, identities: dict[str, tuple[str, bool]], first: str, last: str
) -> None:
    if rng.random() < 0.2:
        identities["x"] = (f"{slug(first)}_{slug(last)[:3]}{rng.randint(1, 999)}", False)
    if rng.random() < 0.3:
        identities["messenger"] = (str(rng.randrange(10**15, 10**16)), False)
        identities["facebook"] = (str(rng.randrange(10**14, 10**15)), False)
    if rng.random() < 0.35:
        identities["chat_visitor"] = (f"visitor-{rng.getrandbits(48):012x}", False)


def _dedupe_identities(customers: list[PlannedCustomer]) -> None:
    """Make every (kind, value) unique by changing repeats, as the schema requires."""
    seen: set[tuple[str, str]] = set()
    for customer in customers:
        for kind, (value, verified) in list(customer.identities.items()):
            unique, attempt = value, 0
            while (kind, unique) in seen:
                attempt += 1
                unique = _variant(value, attempt)
            seen.add((kind, unique))
            customer.identities[kind] = (unique, verified)


def _variant(value: str, attempt: int) -> str:
    if "@" in value:
        local, domain = value.split("@")
        return f"{local}{attempt + 1}@{domain}"
    if value.startswith("+"):
        return f"{value[:-4]}{(int(value[-4:]) + attempt * 7919) % 10000:04d}"
    return f"{value}{attempt + 1}"


# --- Writing --------------------------------------------------------------------------------


def conversation_values(rng: random.Random, language: str, first_name: str) -> dict[str, str]:
    product = rng.choice(PRODUCTS)
    cents = rng.choice(("00", "50", "90", "99"))
    return {
        "order": f"ML-2026-{rng.randint(100000, 999999)}",
        "product": product[0] if language == "fr" else product[1],
        "store": rng.choice(STORES),
        "days": str(rng.randint(3, 15)),
        "amount": f"{rng.randint(19, 890)},{cents}",
        "first_name": first_name,
    }


def scenario(rng: random.Random, language: str, topic: str, public: bool) -> tuple[str, str]:
    """A customer's opening line and the first answer it calls for, as templates."""
    lines = TEXTS[language][f"public {topic}" if public else topic]
    index = rng.randrange(len(lines) // 2) * 2
    return lines[index], lines[index + 1].removeprefix("> ")


def line(rng: random.Random, language: str, kind: str, used: set[str] | None = None) -> str:
    """One line of ``kind``; with ``used``, one not used yet in this conversation if any."""
    lines = TEXTS[language][kind]
    fresh = [text for text in lines if text not in used] if used is not None else []
    chosen = rng.choice(fresh or lines)
    if used is not None:
        used.add(chosen)
    return chosen


def customer_text(
    rng: random.Random, language: str, channel_kind: str, body: str, name: str, opening: bool
) -> str:
    """A customer's message dressed for its channel: a letter by e-mail, a line in a chat."""
    if channel_kind in MENTIONS:
        return MENTIONS[channel_kind] + body
    if channel_kind in LETTER_CHANNELS:
        return f"{GREETING[language]},\n\n{body}\n\n{line(rng, language, 'closing')}\n{name}"
    if channel_kind == "phone":
        return CALL[language][0] + body
    if opening and rng.random() < 0.6:
        return f"{GREETING[language]}{BANG[language]}{body}"
    return body


def agent_text(
    rng: random.Random, language: str, channel_kind: str, body: str, first_name: str, greet: bool
) -> str:
    """An agent's reply before signing: a letter by e-mail, a short line elsewhere."""
    greeting = f"{GREETING[language]} {first_name}"
    if channel_kind in LETTER_CHANNELS:
        return f"{greeting},\n\n{body}\n\n{line(rng, language, 'agent closing')}"
    if channel_kind == "phone":
        return CALL[language][1] + body
    return f"{greeting}{BANG[language]}{body}" if greet else body


def note_text(rng: random.Random, topic: str, values: dict[str, str]) -> str:
    """Internal notes are in French: the team works in French."""
    notes = [note for about, note in _by_topic("fr", "notes") if about == topic]
    return rng.choice(notes).format(**values)


def subject_text(language: str, topic: str, values: dict[str, str]) -> str:
    return dict(_by_topic(language, "subjects"))[topic].format(**values)


def _by_topic(language: str, section: str) -> list[tuple[str, str]]:
    return [
        (topic, text) for topic, _, text in (x.partition(" | ") for x in TEXTS[language][section])
    ]


def pick_tags(rng: random.Random, topic: str, vip: bool) -> list[str]:
    tags = TOPIC_TAGS[topic]
    chosen = set(rng.sample(tags, rng.randint(1, len(tags)))) if rng.random() < 0.75 else set()
    return sorted(chosen | {"vip"} if vip else chosen)
