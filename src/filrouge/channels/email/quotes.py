"""What an agent reads first: a reply without the earlier messages it quotes or its signature.

``visible_text`` works on plain text, line by line, in four steps:

1. find the first line where the earlier message starts: an attribution ("On … wrote:",
   "Le … a écrit :", "Am … schrieb", "<date> <address>:"), a separator ("-----Original
   Message-----", "-------- Message d'origine --------"), a block of header lines ("De : / À : /
   Objet :", "From: / Sent: / To:") or a mobile signature ("Sent from my iPhone");
2. keep what is above it, except when the writer answered *between* the quoted lines (or below
   them): then every unquoted line is kept and every ``>`` line dropped;
3. drop the signature: after a ``-- `` line, a short closing ("Cordialement,", "Best regards,")
   and the few lines under it, a mailing-list footer under a line of underscores;
4. if nothing is left (a bare forward, a reply that is only a quote), give the whole text back.

It is deliberately a small set of rules in a few languages (French and English first), measured
against the crisp-oss reply fixtures in ``tests/test_email_parse.py``.
"""

from __future__ import annotations

import re

_WROTE = (
    r"(?:wrote|writes|a\s+[ée]crit|schrieb|ha\s+scritto|scrisse|schreef|escreveu|escribi[óo]"
    r"|napisa[łl]\S*|kirjoitti|skrev|[íi]rta|написал\S*|pisze|yazd[ıi])"
)
_PREFIX = (
    r"(?:On|Le|Am|Il|In\s+data|Op|Em|El|W\s+dniu|Dnia|Den|Dne|P[åa]|Quoting|Zitat\s+von"
    r"|Citando)\b"
)
# How an attribution line may begin: a known word, a date, or a short day name before a date.
_START = re.compile(rf"^\s*(?:{_PREFIX}|\d|\w{{1,4}}[.,]?\s+\d)", re.IGNORECASE)
_ATTRIBUTION_RULES = (
    # "On <date>, <name> wrote:", "Le <date>, <nom> a écrit :", "---- On … wrote ----"
    re.compile(rf"^\W*{_PREFIX}.*\d.*\b{_WROTE}\s*(?::|-{{2,}})?\s*$", re.IGNORECASE),
    # "<anything> <someone@example.com> wrote:"
    re.compile(rf"@.*\b{_WROTE}\s*:\s*$", re.IGNORECASE),
    # "30.09.2017, 18.30, "John" <john@example.com>:" — a time, an address, a final colon.
    re.compile(r"\d{1,2}[:.h]\d{2}.*@[^\s>]+\s*>\s*:\s*$", re.IGNORECASE),
)
_WROTE_AT_END = re.compile(rf"\b{_WROTE}$", re.IGNORECASE)
# "2013.02.08. 7:31 keltezéssel, "Eszter" írta:" directly above a quoted line.
_TIMED_COLON = re.compile(r"\d{1,2}[:.]\d{2}.*:\s*$")

_SEPARATOR = re.compile(
    r"^\s*[-=_*]{2,}\s*[^-=_*\s].*?[-=_*]{2,}\s*$|"
    r"^\s*(?:Begin forwarded message|D[ée]but du message r[ée]exp[ée]di[ée]"
    r"|Anfang der weitergeleiteten Nachricht)\b.*:\s*$",
    re.IGNORECASE,
)
_SEPARATOR_WORDS = re.compile(
    r"original|forward|message|nachricht|besked|meddelande|messaggio|mensaje|mensagem"
    r"|wiadomo|transf|weitergeleitet|r[ée]exp[ée]di|origine|wrote|[ée]crit",
    re.IGNORECASE,
)

_LABELS = (
    r"From|Sent|To|Cc|Bcc|Subject|Date|Reply-To|De|Envoy[ée](?:\s+le)?|[ÀA]|Objet|Sujet"
    r"|Copie(?:\s+[àa])?|Cc|Von|Gesendet|An|Betreff|Datum|Van|Verzonden|Aan|Onderwerp|Da"
    r"|Inviato|Oggetto|Data|Fra|Sendt|Til|Emne|Dato|Fr[åa]n|Skickat|Till|[ÄA]mne|Od"
    r"|Wys[łl]ano|Do|Temat|Enviado|Para|Asunto|Assunto|Message\s+du|От|Отправлено|Кому|Тема"
    r"|Копия|Дата"
)
_FROM_LABELS = r"From|De|Von|Van|Da|Fra|Fr[åa]n|Od|Message\s+du|От"
_LABEL = re.compile(rf"^\s*\*?\s*(?:{_LABELS})\s*\*?\s*:", re.IGNORECASE)
_FROM_LABEL = re.compile(rf"^\s*\*?\s*(?:{_FROM_LABELS})\s*\*?\s*:", re.IGNORECASE)

_SENT_FROM = re.compile(
    r"^\s*(?:Sent\s+(?:from|with|via)|Get\s+Outlook\s+for|Envoy[ée]\s+(?:de|depuis|[àa]\s+partir"
    r"\s+de|avec|via)|T[ée]l[ée]charger\s+Outlook|Obtenir\s+Outlook|Gesendet\s+(?:von|mit)"
    r"|Von\s+meinem|Inviato\s+da|Enviado\s+(?:desde|do|de|con)|Verzonden\s+(?:vanaf|met)"
    r"|Verstuurd\s+vanaf|Skickat\s+fr[åa]n|Sendt\s+fra)\b",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^\s*(?:(?:best|kind|warm|warmest|many)\s+)?(?:regards|thanks|thank\s+you|cheers|sincerely"
    r"|best|yours(?:\s+(?:truly|sincerely))?|bien\s+(?:cordialement|[àa]\s+vous)|cordialement"
    r"|salutations(?:\s+distingu[ée]es)?|bonne\s+(?:journ[ée]e|soir[ée]e)|merci(?:\s+beaucoup)?"
    r"|mit\s+freundlichen\s+gr[üu](?:ß|ss)en|viele\s+gr[üu](?:ß|ss)e|cordiali\s+saluti"
    r"|saludos|atenciosamente)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_WRAPPED_BRACKET = re.compile(r"^\s*>\s*:\s*$")
_SIGNATURE_DELIMITER = re.compile(r"^--\s?$")
_UNDERSCORES = re.compile(r"^\s*_{2,}\s*$")
_DECORATION = re.compile(r"^\s*[-=_*~—–]*\s*$")

_MAX_SPAN = 3  # an attribution wraps over at most three lines
_MAX_HEADER = 400  # characters: longer lines are prose (and regexes stay linear enough)
_MAX_FOOTER_LINES = 6  # a closing or a list footer: this many lines at most


def visible_text(text: str) -> str:
    """Return ``text`` without quoted earlier messages and signature blocks."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = [line.rstrip() for line in _strip_signature(_strip_quotes(lines))]
    while kept and _DECORATION.match(kept[-1]):
        kept.pop()
    visible = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
    return visible if visible.strip() else text.strip()


def _strip_quotes(lines: list[str]) -> list[str]:
    found = _earlier_message_start(lines)
    if found is None:
        return _unquoted(lines)
    start, span, kind = found
    top, rest = lines[:start], lines[start + span :]
    if kind != "mobile" and _answered_inline(top, rest):
        return top + _unquoted(rest)
    return top


def _earlier_message_start(lines: list[str]) -> tuple[int, int, str] | None:
    """The first line of the quoted earlier message: (index, lines spanned, kind)."""
    for index, line in enumerate(lines):
        if _is_quoted(line) or not line.strip():
            continue
        span = _attribution_span(lines, index)
        if span:
            return index, span, "attribution"
        if _is_separator(line):
            return index, 1, "separator"
        if _is_header_block(lines, index):
            return index, 1, "headers"
        if _is_mobile_signature(line):
            return index, 1, "mobile"
    return None


def _attribution_span(lines: list[str], index: int) -> int:
    for span in range(1, _MAX_SPAN + 1):
        chunk = lines[index : index + span]
        if len(chunk) < span or any(not line.strip() or _is_quoted(line) for line in chunk):
            break
        if span > 1 and not _START.match(lines[index]):
            break
        joined = " ".join(line.strip() for line in chunk)
        if _may_end_an_attribution(joined) and any(
            rule.search(joined) for rule in _ATTRIBUTION_RULES
        ):
            return span
    following = lines[index + 1] if index + 1 < len(lines) else ""
    line = lines[index]
    return (
        1 if _is_quoted(following) and len(line) <= _MAX_HEADER and _TIMED_COLON.search(line) else 0
    )


def _may_end_an_attribution(joined: str) -> bool:
    """A cheap test first: an attribution ends with ":", "--" or a "wrote" word."""
    tail = joined.rstrip()[-40:]
    if len(joined) > _MAX_HEADER or not tail:
        return False
    return tail.endswith((":", "-")) or bool(_WROTE_AT_END.search(tail))


def _is_separator(line: str) -> bool:
    if len(line) > _MAX_HEADER or not _SEPARATOR.match(line):
        return False
    return bool(_SEPARATOR_WORDS.search(line))


def _is_header_block(lines: list[str], index: int) -> bool:
    """``From: …`` followed, within a few lines, by another header line (``Sent:``, ``To:``)."""
    if not _FROM_LABEL.match(lines[index]):
        return False
    window = [line for line in lines[index + 1 : index + 5] if line.strip()]
    return any(_LABEL.match(line) for line in window[:3])


def _is_mobile_signature(line: str) -> bool:
    if not _SENT_FROM.match(line):
        return False
    words = re.sub(r"<[^>]*>?|\([^)]*\)?", " ", line).split()
    return len(words) <= 8 and "," not in line


def _answered_inline(top: list[str], rest: list[str]) -> bool:
    """True when the writer answered below or between the quoted lines."""
    first = next((line for line in rest if line.strip()), "")
    if not _is_quoted(first):
        return False
    if not any(line.strip() for line in top):
        return True
    seen_answer = False
    for line, quoted in _classified(rest):
        if quoted and seen_answer:
            return True
        seen_answer = seen_answer or (not quoted and bool(line.strip()))
    return False


def _unquoted(lines: list[str]) -> list[str]:
    return [line for line, quoted in _classified(lines) if not quoted]


def _classified(lines: list[str]) -> list[tuple[str, bool]]:
    """Each line with whether it belongs to a quote: a ``>`` line, or a wrapped piece of one
    (unquoted lines squeezed between two quoted lines with no blank line around them)."""
    quoted = [_is_quoted(line) for line in lines]
    index = 0
    while index < len(lines):
        end = index
        while end < len(lines) and not quoted[end] and lines[end].strip():
            end += 1
        wrapped = end > index > 0 and end < len(lines) and quoted[end]
        if wrapped and lines[index - 1].strip().lstrip(">").strip():
            quoted[index:end] = [True] * (end - index)
        index = end + 1 if end == index else end
    return list(zip(lines, quoted, strict=True))


def _is_quoted(line: str) -> bool:
    # ">:" alone is the end of a wrapped "<someone@example.com\n>:" attribution, not a quote.
    return line.lstrip().startswith(">") and not _WRAPPED_BRACKET.match(line)


def _strip_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if _SIGNATURE_DELIMITER.match(line):
            lines = lines[:index]
            break
    return _strip_tail(_strip_tail(lines, _UNDERSCORES), _CLOSING)


def _strip_tail(lines: list[str], marker: re.Pattern[str]) -> list[str]:
    """Cut at the last ``marker`` line when only a few short lines follow it."""
    for index in range(len(lines) - 1, 0, -1):
        if marker.match(lines[index]):
            tail = [line for line in lines[index + 1 :] if line.strip()]
            if len(tail) <= _MAX_FOOTER_LINES and all(len(line) <= 80 for line in tail):
                return lines[:index]
            return lines
    return lines
