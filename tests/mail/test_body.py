"""Mail bodies: HTML to text, quoted replies and signatures, MIME structure, broken messages."""

from __future__ import annotations

from ingest.mail import parse_mail, split_body
from ingest.mail.html import html_to_text


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(s.kind, s.text.strip()) for s in split_body(text) if s.text.strip()]


def test_html_to_text_drops_scripts_styles_hidden_and_keeps_structure() -> None:
    markup = """<html><head><title>T</title><style>p {color:red}</style></head><body>
      <div style="display:none">preheader spam</div><script>alert(1)</script>
      <h1>Ihre Rechnung</h1><p>Sehr geehrter Herr M&uuml;ller,&nbsp;anbei   die
      <a href="https://x">Rechnung</a>.</p>
      <table><tr><th>Posten</th><th>Betrag</th></tr><tr><td>Strom</td><td>84,00 &euro;</td></tr></table>
      <ul><li>eins</li><li>zwei</li></ul></body></html>"""
    text = html_to_text(markup)
    assert "preheader" not in text and "alert" not in text and "color" not in text
    assert "Ihre Rechnung\n\nSehr geehrter Herr Müller, anbei die Rechnung." in text
    assert "Posten | Betrag\nStrom | 84,00 €" in text
    assert "- eins\n- zwei" in text


def test_html_to_text_marks_blockquotes_and_signature_divs() -> None:
    markup = ('<div>New answer</div><div class="gmail_signature">Alice<br>+49 30 1234</div>'
              '<div class="gmail_quote">On Mon, 1 Jan 2024 Bob wrote:<blockquote>old<br>text'
              "</blockquote></div>")
    text = html_to_text(markup)
    assert text.splitlines() == ["New answer", "--", "Alice", "+49 30 1234",
                                 "On Mon, 1 Jan 2024 Bob wrote:", "> old", "> text"]
    kinds = _kinds(text)
    assert kinds[0] == ("text", "New answer")
    assert kinds[1][0] == "signature"
    assert kinds[2][0] == "quote" and "> old" in kinds[2][1]


def test_html_to_text_survives_garbage() -> None:
    assert html_to_text("") == ""
    assert html_to_text("<?xml version='1.0' encoding='utf-8'?><p>x</p>") == "x"
    assert html_to_text("<<<>>> <p>a<b>b") == "<<<>>>\n\nab"


def test_split_body_quotes_and_attribution() -> None:
    text = ("Yes, Thursday works.\n\nOn Mon, 4 Mar 2024 at 10:00, Bob <bob@x.org> wrote:\n"
            "> Can we meet on Thursday?\n> Bob\n")
    assert _kinds(text) == [
        ("text", "Yes, Thursday works."),
        ("quote", "On Mon, 4 Mar 2024 at 10:00, Bob <bob@x.org> wrote:\n"
                  "> Can we meet on Thursday?\n> Bob"),
    ]


def test_split_body_wrapped_german_attribution() -> None:
    text = ("Passt.\n\nAm Mo., 4. März 2024 um 10:00 Uhr schrieb Bob Example\n<bob@x.org>:\n"
            "> Donnerstag?\n")
    kinds = _kinds(text)
    assert kinds[0] == ("text", "Passt.")
    assert kinds[1][0] == "quote" and kinds[1][1].startswith("Am Mo.")


def test_split_body_inline_replies_keep_new_text_searchable() -> None:
    text = "> Question one?\nAnswer one.\n> Question two?\nAnswer two.\n"
    assert _kinds(text) == [("quote", "> Question one?"), ("text", "Answer one."),
                            ("quote", "> Question two?"), ("text", "Answer two.")]


def test_split_body_outlook_reply_header_cuts_the_rest() -> None:
    text = ("Anbei die Unterlagen.\n\nVon: Bob <bob@x.org>\nGesendet: Montag, 4. März 2024\n"
            "An: Alice\nBetreff: Unterlagen\n\nKönnen Sie mir die Unterlagen schicken?\n")
    kinds = _kinds(text)
    assert kinds[0] == ("text", "Anbei die Unterlagen.")
    assert kinds[1][0] == "quote" and "Können Sie" in kinds[1][1]
    text2 = "Ok.\n-----Original Message-----\nFrom: x\nold stuff\n"
    assert [k for k, _ in _kinds(text2)] == ["text", "quote"]


def test_split_body_forwarded_message_stays_searchable() -> None:
    text = ("FYI\n\n---------- Forwarded message ---------\nFrom: Bank <info@bank.de>\n"
            "Date: Mon, 4 Mar 2024\nSubject: Zinsänderung\nTo: Alice\n\nDer Zins steigt auf 4 %.\n")
    assert [k for k, _ in _kinds(text)] == ["text"]


def test_split_body_signatures() -> None:
    assert _kinds("Hi there.\n\n-- \nAlice Example\nExample GmbH\n") == [
        ("text", "Hi there."), ("signature", "-- \nAlice Example\nExample GmbH".strip())]
    assert _kinds("Ok.\n\nSent from my iPhone\n") == [("text", "Ok."),
                                                      ("signature", "Sent from my iPhone")]
    kinds = _kinds("Der Termin passt.\n\nMit freundlichen Grüßen\n\nMax Mustermann\n"
                   "Musterfirma GmbH\nTel. 030 123456\n")
    assert kinds == [("text", "Der Termin passt.\n\nMit freundlichen Grüßen"),
                     ("signature", "Max Mustermann\nMusterfirma GmbH\nTel. 030 123456")]


def test_split_body_closing_mid_mail_is_not_a_signature() -> None:
    text = "Thanks\n" + "\n".join(f"Line {i} of a long answer." for i in range(15))
    assert [k for k, _ in _kinds(text)] == ["text"]


def test_split_body_joins_back_to_the_body() -> None:
    text = "a\n> b\n\n-- \nsig\n"
    assert "".join(s.text for s in split_body(text)) == text


def test_html_only_mail_becomes_clean_text() -> None:
    raw = (b"From: shop@example.com\r\nSubject: Bestellung\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/html; charset=iso-8859-1\r\n\r\n"
           b"<html><body><p>Ihre Bestellung \xfcber <b>42,00 &euro;</b> ist unterwegs.</p>"
           b"<style>x{}</style></body></html>\r\n")
    mail = parse_mail(raw)
    assert mail.body_format == "html"
    assert mail.body[0].text.strip() == "Ihre Bestellung über 42,00 € ist unterwegs."


def test_alternative_prefers_plain_unless_it_is_a_stub(make_message) -> None:
    long_html = "<p>" + "Real newsletter content. " * 30 + "</p>"
    stub = parse_mail(make_message(body="View this mail in a browser.", html=long_html))
    assert stub.body_format == "html" and "Real newsletter content." in stub.body[0].text
    both = parse_mail(make_message(body="Plain wins here.", html="<p>Plain wins here.</p>"))
    assert both.body_format == "plain" and both.body[0].text.strip() == "Plain wins here."


def test_missing_final_boundary_and_no_content_type() -> None:
    raw = (b"From: me@example.com\r\nSubject: Test\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/alternative; boundary = nextPart\r\n\r\n"
           b"--nextPart\r\nContent-type: text/plain; charset=iso-8859-1\r\n\r\nSome body\r\n")
    assert parse_mail(raw).body[0].text.strip() == "Some body"
    bare = b"From: a@x.org\nSubject: bare\n\nJust text.\n"
    assert parse_mail(bare).body[0].text.strip() == "Just text."


def test_multipart_without_parts_keeps_its_text() -> None:
    raw = (b"From: x@example.com\r\nSubject: Broken\r\n"
           b'Content-Type: multipart/alternative; boundary="abc"\r\n\r\nonly a preamble\r\n')
    mail = parse_mail(raw)
    assert "only a preamble" in mail.body[0].text
    assert "multipart/alternative without parts" in mail.defects


def test_signed_mail_body_without_signature_attachment() -> None:
    raw = (b"From: s@example.dom\r\nSubject: signed\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/signed; protocol="application/x-pkcs7-signature"; '
           b'boundary="B"\r\n\r\n--B\r\nContent-Type: application/plain; charset="utf-8"\r\n'
           b"Content-Transfer-Encoding: base64\r\n\r\nYSBww7ZzdGFsIHNpZ24=\r\n--B\r\n"
           b'Content-Type: application/x-pkcs7-signature; name="smime.p7s"\r\n'
           b'Content-Disposition: attachment; filename="smime.p7s"\r\n'
           b"Content-Transfer-Encoding: base64\r\n\r\nMIIGuQYJKoZIhvcNAQcCoIIGqjCC\r\n--B--\r\n")
    mail = parse_mail(raw)
    assert mail.body[0].text.strip() == "a pöstal sign"
    assert mail.attachments == []
