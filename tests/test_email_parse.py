"""The email parser on real mail: every file under shared/data/email, and what a user notices.

The material stays in ``../shared/data`` (see its README); the tests skip, saying so, when a fresh
clone does not have it. Nothing from it is copied here.
"""

from __future__ import annotations

import base64
import quopri
from datetime import UTC, datetime
from pathlib import Path

import pytest

from filrouge.channels.email.parse import (
    AutoKind,
    EmailAddress,
    EmailUnreadable,
    ParsedEmail,
    parse_email,
)
from filrouge.channels.email.quotes import visible_text

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MAIL = DATA / "email"
CRISP = MAIL / "crisp-email-reply-parser" / "fixtures"
ABSENT = f"the shared test material is not here ({DATA}); see shared/data/README.md"

# Files of the corpus that are not mails: parsing them must raise EmailUnreadable, nothing else.
NOT_MAILS = {
    "cpython-2.7.3-email-test-data/msg_19.txt": "the body of a digest, without a header",
    "imap_tools/.gitattributes": "git settings (empty)",
    "ruby-mail/.gitattributes": "git settings",
    "ruby-mail/sample_output_multipart": "an empty file",
    "mail-parser/mail_outlook_1": "an Outlook .msg (OLE compound file), not RFC 5322",
    "talon/OLK_SRC_BODY_SECTION.html": "an HTML body, no header",
    "talon/reply-separated-by-hr.html": "an HTML body, no header",
    "talon/html_replies/gmail.html": "an HTML body, no header",
    "talon/html_replies/hotmail.html": "an HTML body, no header",
    "talon/html_replies/mail_ru.html": "an HTML body, no header",
    "talon/html_replies/ms_outlook_2003.html": "an HTML body, no header",
    "talon/html_replies/ms_outlook_2007.html": "an HTML body, no header",
    "talon/html_replies/ms_outlook_2010.html": "an HTML body, no header",
    "talon/html_replies/thunderbird.html": "an HTML body, no header",
    "talon/html_replies/windows_mail.html": "an HTML body, no header",
    "talon/html_replies/yandex_ru.html": "an HTML body, no header",
    "talon/standard_replies/iphone_reply_text": "talon's expected reply text, not a mail",
    "talon/standard_replies/sparrow_reply_text": "talon's expected reply text, not a mail",
}


def _mail_files() -> list[str]:
    if not MAIL.is_dir():
        return ["<shared data absent>"]
    files = (p for p in MAIL.rglob("*") if p.is_file())
    return sorted(
        str(p.relative_to(MAIL))
        for p in files
        if not p.relative_to(MAIL).parts[0].startswith("crisp-")
    )


def _require_data() -> None:
    if not MAIL.is_dir():
        pytest.skip(ABSENT)


def parsed(name: str) -> ParsedEmail:
    _require_data()
    return parse_email((MAIL / name).read_bytes())


# --- every file ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", _mail_files())
def test_it_parses_every_real_mail_without_raising(name: str) -> None:
    _require_data()
    raw = (MAIL / name).read_bytes()
    if name in NOT_MAILS:
        with pytest.raises(EmailUnreadable):
            parse_email(raw)
        return
    mail = parse_email(raw)
    assert "\x00" not in mail.text + mail.visible_text
    assert mail.date is None or mail.date.tzinfo is UTC
    assert mail.html is None or "<script" not in mail.html.lower()
    assert all(a.filename and isinstance(a.content, bytes) for a in mail.attachments)


def test_it_names_only_real_files_as_not_mails() -> None:
    _require_data()
    assert [name for name in NOT_MAILS if not (MAIL / name).is_file()] == []


def test_it_refuses_bytes_that_are_not_a_mail() -> None:
    for raw in (b"", b"  \r\n", b"<html><body>Hello</body></html>", b"\xd0\xcf\x11\xe0\x00\x00"):
        with pytest.raises(EmailUnreadable):
            parse_email(raw)


def _nested(depth: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\nhello"
    for level in range(depth):
        boundary = b"b%d" % level
        body = (
            (b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--' + boundary)
            + b"\r\n"
            + body
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    return b"From: a@example.com\r\nSubject: bomb\r\n" + body


def test_it_survives_a_bomb_of_nested_parts() -> None:
    assert parse_email(_nested(10)).text == "hello"
    deep = parse_email(_nested(200))  # read, but not below MAX_DEPTH
    assert (deep.subject, deep.text) == ("bomb", "")
    with pytest.raises(EmailUnreadable):
        parse_email(_nested(1500))  # beyond what the email package itself can parse


# --- headers ---------------------------------------------------------------------------------


def test_it_reads_the_accents_of_an_iso_8859_1_mail() -> None:
    mail = parsed("mail-parser/mail_test_10")  # Italian, ISO-8859-1, quoted-printable
    assert "Società con unico azionista" in mail.text
    assert "vi segnalo che oggi è stato annunciato" in mail.text
    assert "Ã" not in mail.text


def test_it_decodes_rfc_2047_subjects_and_names() -> None:
    assert parsed("mail-parser/mail_test_5").subject == "Je prépare mon été zéro complexe !"
    folded = parsed("flanker/long-header.eml").subject  # dozens of folded encoded words
    assert folded is not None
    assert "=?" not in folded
    assert folded.startswith("Die heiße Zypernsonne quälte Max und Victoria ja böse auf dem Weg")
    sender = parsed("django-helpdesk/all-special-chars.eml").sender
    assert sender is not None
    assert (sender.address, sender.name) == ("timothy.hobbs@auto-mat.cz", "Timothy Hobbs")
    assert parsed("flanker/from-encoding.eml").sender == EmailAddress(
        "ingo@blank.pages.de", "Ingo Lütkebohle"
    )  # a raw Latin-1 name, not even encoded


def western(body: bytes, charset: str, encoding: str = "8bit", subject: str = "Test") -> bytes:
    """A small mail whose body is ``body``, as bytes in ``charset``, sent as ``encoding``."""
    if encoding == "quoted-printable":
        body = quopri.encodestring(body)
    elif encoding == "base64":
        body = base64.encodebytes(body)
    return (
        b"From: client@example.test\r\nTo: support@example.test\r\n"
        + f"Subject: {subject}\r\nMIME-Version: 1.0\r\n".encode()
        + f"Content-Type: text/plain; charset={charset}\r\n".encode()
        + f"Content-Transfer-Encoding: {encoding}\r\n\r\n".encode()
        + body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    )


@pytest.mark.parametrize("encoding", ["8bit", "quoted-printable", "base64"])
def test_it_reads_windows_1252_and_iso_8859_15_bodies(encoding: str) -> None:
    # "€" is 0x80 in Windows-1252 and 0xA4 in ISO-8859-15 (where Latin-1 has "¤" instead)
    cp1252 = parse_email(
        western(
            b"Le prix : 49 \x80 \x96 \x93promo\x94, l\x92offre finit lundi.\n",
            "windows-1252",
            encoding,
        )
    )
    assert cp1252.visible_text == "Le prix : 49 € – “promo”, l’offre finit lundi."
    latin9 = parse_email(
        western(b"Un c\xbdur \xe0 20 \xa4 pour \xa6imon.\n", "iso-8859-15", encoding)
    )
    assert latin9.visible_text == "Un cœur à 20 € pour Šimon."
    assert "¤" not in cp1252.text + latin9.text


def test_it_decodes_rfc_2047_words_in_western_charsets() -> None:
    name = base64.b64encode("Françoise Œuvray".encode("iso-8859-15")).decode()
    raw = (
        f"From: =?ISO-8859-15?B?{name}?= <francoise@example.test>\r\n"
        "To: support@example.test\r\n"
        "Subject: =?windows-1252?Q?Facture_=80_n=B0_12_=96_r=E9gl=E9e?=\r\n"
        " =?iso-8859-15?q?_=28=A4=29?= et =?iso-8859-15?q?c=BDur?=\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour\r\n"
    ).encode()
    mail = parse_email(raw)
    assert mail.subject == "Facture € n° 12 – réglée (€) et cœur"
    assert mail.sender == EmailAddress("francoise@example.test", "Françoise Œuvray")


def test_it_reads_threading_headers_without_angle_brackets() -> None:
    mail = parsed("ruby-mail/rfc2822/example07.eml")
    assert mail.message_id == "abcd.1234@local.machine.tld"
    assert mail.in_reply_to == ("3456@example.net",)
    assert mail.references == ("1234@local.machine.example", "3456@example.net")


def test_it_gives_the_date_in_utc() -> None:
    assert parsed("talon/standard_replies/iphone.eml").date == datetime(
        2012, 4, 3, 12, 23, 59, tzinfo=UTC
    )
    assert parsed("ruby-mail/plain_emails/raw_email_with_bad_date.eml").date is None


def test_it_reads_recipients() -> None:
    mail = parsed("ruby-mail/rfc2822/example03.eml")
    assert [(a.address, a.name) for a in mail.to] == [
        ("mary@x.test", "Mary Smith"),
        ("jdoe@example.org", None),
        ("one@y.test", "Who?"),
    ]
    assert [(a.address, a.name) for a in mail.cc] == [
        ("boss@nil.test", None),
        ("sysservices@example.net", 'Giant; "Big" Box'),
    ]


def test_it_repairs_a_header_block_broken_by_a_junk_line() -> None:
    mail = parsed("ruby-mail/plain_emails/raw_email_incorrect_header.eml")
    assert mail.subject == "Stop adware/spyware once and for all."
    assert mail.sender is not None
    assert mail.sender.address == "xxx@xxx.xxx"


# --- bodies ----------------------------------------------------------------------------------


def test_it_reads_an_html_only_mail_as_text_and_keeps_its_html_sanitised() -> None:
    _require_data()
    raw = (MAIL / "mail-parser/mail_test_4").read_bytes()  # HTML only, 7bit, Windows-1251
    mail = parse_email(
        raw.replace(b"<div>", b'<div onclick="steal()"><script>alert(1)</script>', 1)
    )
    assert mail.text.startswith("Dear All,\n\nWe have made the payment of USD 103,349,35.")
    assert "<" not in mail.text
    assert "&nbsp;" not in mail.text
    assert mail.html is not None
    assert "We have made the payment" in mail.html
    assert "<script" not in mail.html
    assert "alert(1)" not in mail.html
    assert "onclick" not in mail.html


def test_it_prefers_the_plain_text_alternative_and_keeps_the_html() -> None:
    mail = parsed("flanker/relative.eml")
    assert mail.text.startswith("This is html and text message, thanks")
    assert mail.html is not None
    assert "<" in mail.html


def test_it_reads_an_html_only_mail_in_russian() -> None:
    mail = parsed("imap_tools/base.eml")  # base64 UTF-8 HTML, no text part
    assert mail.text.startswith("Здравствуйте!")
    assert mail.html is not None
    assert "Здравствуйте" in mail.html


def test_it_decodes_japanese_and_korean_charsets() -> None:
    assert parsed("ruby-mail/multi_charset/japanese_iso_2022.eml").text.strip() == "すみません。"
    assert parsed("ruby-mail/multi_charset/ks_c_5601-1987.eml").text.strip() == "스티해"


def test_it_recovers_a_multipart_whose_boundary_is_wrong() -> None:
    mail = parsed("mail-parser/mail_malformed_3")  # declares one boundary, uses another
    assert mail.text.startswith("Problemas para visualizar")


# --- attachments -----------------------------------------------------------------------------


def test_it_keeps_attachments_with_their_names_and_bytes() -> None:
    (pdf,) = parsed("ruby-mail/attachment_emails/attachment_pdf.eml").attachments
    assert (pdf.filename, pdf.content_type) == ("broken.pdf", "application/pdf")
    assert pdf.content is not None
    assert pdf.content.startswith(b"%PDF-1.4")
    assert len(pdf.content) == 1026
    (text,) = parsed("ruby-mail/attachment_emails/attachment_nonascii_filename.eml").attachments
    assert (text.filename, text.content) == ("ciële.txt", b"Hi there.\r\n")
    (jpeg,) = parsed("ruby-mail/attachment_emails/attachment_with_quoted_filename.eml").attachments
    assert jpeg.filename == "Eelanalüüsi päring.jpg"
    assert jpeg.content[:3] == b"\xff\xd8\xff"
    (unquoted,) = parsed(
        "ruby-mail/attachment_emails/attachment_with_unquoted_name.eml"
    ).attachments
    assert unquoted.filename == "This is a test.txt"


def test_it_keeps_inline_images_with_their_content_id() -> None:
    mail = parsed("imap_tools/attachment_inline1.eml")
    assert mail.html is not None
    assert 'src="cid:part1.02000503.06000807@mail.ru"' in mail.html
    image = mail.attachment_for_cid("cid:part1.02000503.06000807@mail.ru")
    assert image is not None
    assert image.inline
    assert (image.filename, image.content_type) == ("blank.png", "image/png")
    assert image.content is not None
    assert image.content.startswith(b"\x89PNG")
    assert all(a.inline and a.content_id for a in mail.attachments)


def test_it_keeps_an_enclosed_message_as_an_eml_attachment() -> None:
    (enclosed,) = parsed("ruby-mail/attachment_emails/attachment_message_rfc822.eml").attachments
    assert (enclosed.filename, enclosed.content_type) == ("ForwardedMessage.eml", "message/rfc822")
    assert enclosed.content is not None
    assert enclosed.content.startswith(b"Return-Path:")
    # Some mailers base64 an enclosed message; the attachment is still the mail itself.
    first, _second = parsed("imap_tools/attachment_2_base64.eml").attachments
    assert first.content is not None
    assert first.content.startswith(b"Received: from")


def test_it_keeps_winmail_dat_as_a_plain_attachment() -> None:
    raw = (
        b"From: Client <client@example.fr>\r\nTo: support@example.com\r\nSubject: Facture\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCi-joint.\r\n"
        b'--b\r\nContent-Type: application/ms-tnef; name="winmail.dat"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\neJ8+IgAAAQ==\r\n--b--\r\n"
    )
    (winmail,) = parse_email(raw).attachments
    assert (winmail.filename, winmail.content_type) == ("winmail.dat", "application/ms-tnef")
    assert winmail.content == b'x\x9f>"\x00\x00\x01'


# --- automatic mail --------------------------------------------------------------------------

BOUNCES = {
    "flanker/bounce/zed.eml": (
        "20090708054735.GC7578@example.com",
        "asdfasdfasdfasdfasdfasdfewrqertrtyrthsfgdfgadfqeadvxzvz@gmail.com",
    ),
    "flanker/bounce/mailbox-full.eml": ("4E326A95.3010907@example.com", "user@aol.com"),
    "flanker/bounce/office365.eml": (
        "20171013111011.20866.254C2F3A4D7AA526@ninomail.com",
        "noname@example.com",
    ),
    "flanker/bounce/gmail-invalid-address.eml": (
        "CAKsfaBUUGqVZiaMrmH3TRPfq1odQPtM7Ey5YW1SgyJJRHtAjgw@mail.gmail.com",
        "awfawfawfawfawfaw@someserverhere.com",
    ),
    "ruby-mail/multipart_report_emails/report_530.eml": (
        "200712232303.lBNN3jDq002941@mail12.rrrr.com.au",
        "edwin@zzzzzzz.com",
    ),
    "ruby-mail/multipart_report_emails/multipart_report_multiple_status.eml": (
        "4c2a146147ac8_61ff157c4ec1652df@s.h.c.mail",
        "u@ci.com",
    ),
    "cpython-2.7.3-email-test-data/msg_16.txt": (
        "002001c144a6$8752e060$56104586@oxy.edu",
        "jangel1@cougar.noc.ucla.edu",
    ),
}


@pytest.mark.parametrize("name", sorted(BOUNCES))
def test_it_recognises_a_bounce_and_the_message_that_failed(name: str) -> None:
    mail = parsed(name)
    message_id, recipient = BOUNCES[name]
    assert mail.auto is AutoKind.BOUNCE
    assert mail.bounced_message_ids == (message_id,)
    assert recipient in mail.bounce_recipients


def test_it_lists_every_failed_recipient_of_a_bounce() -> None:
    mail = parsed("ruby-mail/multipart_report_emails/multi_address_bounce1.eml")
    assert len(mail.bounce_recipients) == 5
    assert mail.bounce_recipients[0] == "bbbbvhvbbvkjbhfbvbvjhb@gmail.com"


@pytest.mark.parametrize(
    "name", ["ruby-mail/multipart_report_emails/report_422.eml", "flanker/bounce/no-mx.eml"]
)
def test_it_fails_no_outbound_message_on_a_mere_delay(name: str) -> None:
    mail = parsed(name)
    assert mail.auto is AutoKind.BOUNCE
    assert (mail.bounced_message_ids, mail.bounce_recipients) == ((), ())


def test_it_recognises_an_out_of_office_reply() -> None:
    raw = (
        b"From: Marie Martin <marie@example.fr>\r\nTo: support@example.com\r\n"
        b"Subject: =?utf-8?q?R=C3=A9ponse_automatique=C2=A0=3A_Commande_42?=\r\n"
        b"Auto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nJe suis absente jusqu'au 3 janvier.\r\n"
    )
    mail = parse_email(raw)
    assert mail.auto is AutoKind.AUTO_REPLY
    assert mail.subject == "Réponse automatique\xa0: Commande 42"
    assert mail.bounced_message_ids == ()
    without_header = raw.replace(b"Auto-Submitted: auto-replied\r\n", b"")
    assert parse_email(without_header).auto is AutoKind.AUTO_REPLY  # the subject says it


def test_it_recognises_a_read_receipt_as_an_automatic_reply() -> None:
    assert parsed("flanker/disposition-notification.eml").auto is AutoKind.AUTO_REPLY


@pytest.mark.parametrize(
    "name", ["mail-parser/mail_test_13", "cpython-2.7.3-email-test-data/msg_32.txt"]
)
def test_it_recognises_bulk_mail(name: str) -> None:
    assert parsed(name).auto is AutoKind.BULK


def test_it_takes_a_persons_reply_for_a_persons_reply() -> None:
    mail = parsed("talon/standard_replies/gmail.eml")
    assert (mail.auto, mail.bounced_message_ids) == (None, ())


# --- what an agent reads first ---------------------------------------------------------------

TALON_REPLIES = [
    "android.eml",
    "aol.eml",
    "apple_mail.eml",
    "apple_mail_2.eml",
    "comcast.eml",
    "gmail.eml",
    "hotmail.eml",
    "iphone.eml",
    "outlook.eml",
    "sparrow.eml",
    "thunderbird.eml",
    "yahoo.eml",
]


@pytest.mark.parametrize("name", TALON_REPLIES)
def test_it_shows_a_reply_without_the_message_it_quotes(name: str) -> None:
    mail = parsed(f"talon/standard_replies/{name}")
    assert mail.visible_text == "Hello"
    assert mail.text.strip() != "Hello"  # the full text still has the quoted message


@pytest.mark.parametrize(
    "name",
    [
        "gmail.html",
        "hotmail.html",
        "mail_ru.html",
        "ms_outlook_2003.html",
        "ms_outlook_2007.html",
        "ms_outlook_2010.html",
        "thunderbird.html",
        "windows_mail.html",
        "yandex_ru.html",
    ],
)
def test_it_shows_an_html_only_reply_without_the_message_it_quotes(name: str) -> None:
    _require_data()
    body = (MAIL / "talon" / "html_replies" / name).read_bytes()
    mail = parse_email(
        b"From: a@example.com\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body
    )
    assert mail.visible_text == "Hi. I am fine."
    assert "How are you?" in mail.text


def test_it_keeps_the_answer_of_a_reply_that_shares_a_block_with_its_quote() -> None:
    mail = parsed("talon/reply-quotations-share-block.eml")
    assert mail.visible_text.endswith("Joe XXX")
    assert "New Booking Inquiry" not in mail.visible_text


# The crisp-oss/email-reply-parser fixtures are bodies; their expectations are in its test.js.
# Most end the reply with the same paragraph (COMMON); the others are listed as
# (the exact visible text or None, fragments it keeps, fragments it drops), from test.js where
# it says, from reading the fixture where it does not.
COMMON = "Fusce bibendum"
SAME = "the whole body"
CRISP_EXPECTED: dict[str, tuple[str | None, tuple[str, ...], tuple[str, ...]]] = {
    "correct_sig": ("this is an email with a correct -- signature.", (), ()),
    "email_1": (None, ("Riak bucket", "-Abhishek Kona"), ("riak-users mailing list",)),
    "email_19": (None, ("On Thursday, I get proper rendering.",), ("Was this caching",)),
    "email_2": (None, ("Hi,", "You can list the keys", "would do it."), ("What is the best",)),
    "email_20": ("On Thursday.", (), ()),
    "email_21": (SAME, (), ()),
    "email_2_1": ("Outlook with a reply", (), ()),
    "email_3": (None, ("Oh thanks.", "-Abhishek Kona"), ("Russell Brown", "riak-users")),
    "email_4": ("Awesome! I haven't had another problem with it.", (), ()),
    "email_5": (SAME, (), ()),
    "email_6": (None, ("I get proper rendering as well.",), ("Was this caching", "Corey")),
    "email_blackberry": ("Here is another email", (), ()),
    "email_bullets": (None, ("should list second", "- and another"), ("Give us", "Joe Smith")),
    "email_custom_quote_header": ("Thank you!", (), ()),
    "email_customer_quote_header_2": ("Thank you very much.", (), ()),
    "email_customer_quote_header_3": (None, ("merci d'avance",), ("ici dans la description",)),
    "email_emoji": (None, ("🎉",), ()),
    "email_iphone": ("Here is another email", (), ()),
    "email_multi_word_sent_from_my_mobile_device": ("Here is another email", (), ()),
    "email_not_a_signature": (None, ("Registration Jun 27, 2018 twitter.com",), ()),
    "email_not_a_signature_2": (None, ("-- first point", "I hope you can check it"), ()),
    "email_one_is_not_on": (None, ("One outstanding question", "Locally"), ("The good news",)),
    "email_reply_header": (None, ("it could happen TWICE!",), ("mrmister again", "My name is")),
    "email_sent_from": (
        "Hi it can happen to any texts you type, as long as you type in between words or "
        "paragraphs.",
        (),
        (),
    ),
    "email_sent_from_my_not_signature": (SAME, (), ()),
    "email_thread": ("This is new email reply in thread from bellow.", (), ()),
    "email_tricky_11_double_signature": (None, ("Thanks for your help!",), ("Senior Developer",)),
    "email_tricky_13_timestamp_variations": (SAME, (), ()),
    "email_tricky_16_unicode_signatures": (None, ("Thanks for the update!",), ()),
    "email_tricky_17_forward_header": (
        None,
        ("See the forwarded message",),
        ("forwarded content",),
    ),
    "email_tricky_18_inline_reply": (
        None,
        ("option A is great", "Option B has some drawbacks", "Option C is not suitable"),
        ("What's your opinion",),
    ),
    "email_tricky_19_quote_without_header": (
        None,
        ("I wanted to respond", "My response to the quoted text", "And my final thoughts."),
        ("This is a quoted section",),
    ),
    "email_tricky_1_on_false_positive": (SAME, (), ()),
    "email_tricky_20_html_entities": (None, ("&gt; 100 and &lt; 200",), ("Previous message",)),
    "email_tricky_2_url_with_wrote": (None, ("on-date-someone-wrote-about-parsing",), ()),
    "email_tricky_3_code_block": (None, ("function sendEmail", "Notice how the code"), ()),
    "email_tricky_4_from_in_body": (SAME, (), ()),
    "email_tricky_6_regards_in_sentence": (SAME, (), ()),
    "email_tricky_7_multiple_dashes": (SAME, (), ()),
    "email_tricky_8_sent_from_in_content": (SAME, (), ()),
    "email_tricky_9_nested_quotes": ("I agree with the points below.", (), ()),
    "email_unquoted_reply": ("This is my reply.", (), ()),
    "email_with_date_headers": (None, ("Thank you very much.",), ()),
    "email_with_from_headers": (None, ("My email is",), ()),
    "email_with_regards": ("Hi,\n\nI still have the same problem....\n\nCan you help?", (), ()),
    "email_zoho": (
        "What is the best way to clear a Riak bucket of all key, values after\nrunning a test?",
        (),
        (),
    ),
    "sig_no_empty_line": ("this is an email with a signature with no empty line above.", (), ()),
}
CRISP_FRENCH = [
    "email_10",
    "email_11",
    "email_9",
    "email_customer_quote_header_3",
    "email_fr_multiline",
    "email_french_2",
    "email_french_dash_separator",
    "email_ios_outlook_fr",
    "email_tricky_5_mixed_languages",
]
CRISP_FLOOR = 0.95  # measured: 90 of 90


def _flat(text: str) -> str:
    return " ".join(text.split())


def _crisp_ok(name: str) -> bool:
    body = (CRISP / f"{name}.txt").read_text(encoding="utf-8")
    exact, kept, dropped = CRISP_EXPECTED.get(name, (COMMON, (), ()))
    if exact == COMMON:
        exact = "\n".join(body.splitlines()[:5])  # the common first paragraph
    elif exact == SAME:
        exact = body
    visible = _flat(visible_text(body))
    if exact is not None and visible != _flat(exact):
        return False
    return all(_flat(k) in visible for k in kept) and not any(_flat(d) in visible for d in dropped)


def test_it_strips_quotes_and_signatures_from_crisp_reply_fixtures() -> None:
    if not CRISP.is_dir():
        pytest.skip(ABSENT)
    names = sorted(path.stem for path in CRISP.glob("*.txt"))
    failed = [name for name in names if not _crisp_ok(name)]
    rate = 1 - len(failed) / len(names)
    assert len(names) >= 90
    assert rate >= CRISP_FLOOR, f"{rate:.0%} of {len(names)} crisp fixtures; failed: {failed}"


@pytest.mark.parametrize("name", CRISP_FRENCH)
def test_it_strips_french_replies_as_crisp_expects(name: str) -> None:
    if not CRISP.is_dir():
        pytest.skip(ABSENT)
    assert _crisp_ok(name), visible_text((CRISP / f"{name}.txt").read_text(encoding="utf-8"))


def test_it_cuts_a_french_reply_at_le_a_ecrit() -> None:
    body = (
        "Bonjour,\n\nMon colis n'est toujours pas arrivé.\n\nCordialement,\nJeanne\n\n"
        "Le mar. 3 déc. 2024 à 10:12, Service client <support@example.fr> a\xa0écrit\xa0:\n"
        "> Bonjour Jeanne,\n> Votre colis est parti hier.\n"
    )
    assert visible_text(body) == "Bonjour,\n\nMon colis n'est toujours pas arrivé."
