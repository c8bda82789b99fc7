"""Header and body decoding of real-world mail: RFC 2047, wrong charsets, 8-bit, dates, IDs."""

from __future__ import annotations

from datetime import UTC, datetime

from ingest.mail import parse_mail
from ingest.mail.charsets import decode_bytes
from ingest.mail.headers import (
    decode_header,
    normalise_message_id,
    parse_addresses,
    parse_date,
    parse_message_ids,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def test_decode_header_rfc2047_q_and_b_words() -> None:
    assert decode_header("=?utf-8?q?K=C3=BCndigung_Ihres_Vertrags?=") == "Kündigung Ihres Vertrags"
    assert decode_header("=?ISO-8859-1?B?R3L832U=?=") == "Grüße"
    assert decode_header("Re: =?utf-8?B?U3Ryb212ZXJ0cmFn?= 2024") == "Re: Stromvertrag 2024"


def test_decode_header_joins_words_that_split_a_character() -> None:
    # "ü" is C3 BC in UTF-8; the sender split it across two encoded words.
    assert decode_header("=?utf-8?q?M=C3?= =?utf-8?q?=BCnchen?=") == "München"


def test_decode_header_raw_8bit_utf8_and_latin1() -> None:
    raw_utf8 = "Grüße aus Köln".encode().decode("ascii", errors="surrogateescape")
    assert decode_header(raw_utf8) == "Grüße aus Köln"
    raw_latin1 = "Grüße".encode("latin-1").decode("ascii", errors="surrogateescape")
    assert decode_header(raw_latin1) == "Grüße"


def test_decode_header_unknown_charset_and_bad_base64_do_not_raise() -> None:
    assert decode_header("=?x-made-up?q?abc?=") == "abc"
    assert decode_header("=?utf-8?b?SGFsbG8?=") == "Hallo"  # padding missing
    assert decode_header("=?utf-8?q?broken") == "=?utf-8?q?broken"
    assert decode_header(None) == ""


def test_decode_bytes_prefers_valid_utf8_over_single_byte_declaration() -> None:
    data = "Gebühr: 12,50 €".encode()
    assert decode_bytes(data, "us-ascii") == "Gebühr: 12,50 €"
    assert decode_bytes(data, "iso-8859-1") == "Gebühr: 12,50 €"


def test_decode_bytes_falls_back_when_declared_utf8_is_cp1252() -> None:
    data = "Gebühr: 12,50 € – fällig".encode("cp1252")
    assert decode_bytes(data, "utf-8") == "Gebühr: 12,50 € – fällig"
    assert decode_bytes(data, None) == "Gebühr: 12,50 € – fällig"


def test_decode_bytes_honours_a_correct_multibyte_declaration() -> None:
    data = "Привет, как дела? Всё хорошо.".encode("koi8-r")
    assert decode_bytes(data, "koi8-r") == "Привет, как дела? Всё хорошо."


def test_parse_addresses_decodes_names_and_drops_duplicates() -> None:
    raw = ['=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <j@example.de>, "Bob" <BOB@x.org>',
           "bob@x.org, undisclosed-recipients:;"]
    assert parse_addresses(raw) == ["Jürgen Müller <j@example.de>", "Bob <BOB@x.org>"]


def test_message_ids_are_normalised() -> None:
    assert normalise_message_id("  <AbC.123@Mail.Example.COM>  ") == "<AbC.123@mail.example.com>"
    assert normalise_message_id("abc@example.com") == "<abc@example.com>"
    assert normalise_message_id("") is None
    refs = parse_message_ids("<a@X.org>\r\n <b@y.org> <a@x.org> (comment)")
    assert refs == ["<a@x.org>", "<b@y.org>"]


def test_parse_date_variants() -> None:
    assert parse_date("Fri, 13 Jul 2012 10:06:49 -0200", now=NOW) == datetime(
        2012, 7, 13, 12, 6, 49, tzinfo=UTC)
    # No weekday, zone name in a comment, two-digit year: lenient parse.
    assert parse_date("13 Jul 12 10:06:49 +0000 (UTC)", now=NOW) == datetime(
        2012, 7, 13, 10, 6, 49, tzinfo=UTC)
    assert parse_date("2023-05-04 08:00", now=NOW) == datetime(2023, 5, 4, 8, 0, tzinfo=UTC)
    assert parse_date("not a date at all", now=NOW) is None
    assert parse_date("Mon, 1 Jan 2199 00:00:00 +0000", now=NOW) is None  # implausible
    assert parse_date(None, now=NOW) is None


def test_missing_date_falls_back_to_received_header() -> None:
    raw = (b"Received: from mx.example.org by mail.example.net; Tue, 2 Jan 2024 10:00:00 +0100\r\n"
           b"From: a@example.org\r\nSubject: no date\r\n\r\nbody\r\n")
    mail = parse_mail(raw, now=NOW)
    assert mail.date == datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
    assert mail.date_header == ""


def test_malformed_date_without_received_is_none() -> None:
    raw = b"From: a@example.org\r\nDate: someday soon\r\nSubject: x\r\n\r\nbody\r\n"
    assert parse_mail(raw, now=NOW).date is None


def test_8bit_body_without_charset_and_raw_8bit_subject() -> None:
    raw = ("From: Jürgen <j@example.de>\r\nSubject: Rückfrage zur Rechnung\r\n"
           "Date: Tue, 2 Jan 2024 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           "Die Gebühr wurde zweimal abgebucht.\r\n").encode()
    mail = parse_mail(raw)
    assert mail.subject == "Rückfrage zur Rechnung"
    assert mail.sender == "Jürgen <j@example.de>"
    assert mail.body[0].text.strip() == "Die Gebühr wurde zweimal abgebucht."


def test_declared_utf8_body_that_is_really_cp1252() -> None:
    raw = (b"From: a@example.org\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "Schöne Grüße".encode("cp1252") + b"\r\n")
    assert parse_mail(raw).body[0].text.strip() == "Schöne Grüße"


def test_quoted_printable_latin1_body() -> None:
    raw = (b"From: a@example.org\r\nSubject: qp\r\n"
           b"Content-Type: text/plain; charset=iso-8859-1\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"Die K=FCndigungsfrist betr=E4gt drei Monate.=\r\n Danke.\r\n")
    assert parse_mail(raw).body[0].text.strip() == "Die Kündigungsfrist beträgt drei Monate. Danke."
