"""Reading inbound mail (inquiries.mail): Japanese charsets, MIME, headers, refusals (R18).

The fixtures in tests/data/mail/ are raw bytes as mailers write them
(ISO-2022-JP from a Windows mailer with ①/㈱, Shift_JIS base64 under
``x-sjis``, UTF-8 quoted-printable, HTML only, EUC-JP under a Shift_JIS label);
expected.json holds the text each one was made from, so the decoded body is
compared with the words the sender typed, not with our own decoder's output.
"""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from anshin.errors import InvalidInput
from anshin.inquiries import mail
from anshin.inquiries.mail import find_reference, parse
from anshin.inquiries.mail_text import decode_bytes, html_to_text
from mail_support import compose

DATA = Path(__file__).parent / "data" / "mail"
EXPECTED: dict[str, dict[str, Any]] = json.loads((DATA / "expected.json").read_text("utf-8"))
LIMIT = 2**20

TEXT = (
    "お世話になっております。\nログインできません（エラー500）。\n復旧の見込みを教えてください。\n"
)


def build(
    body: str = TEXT,
    *,
    subject: str = "【anshin】お問い合わせ",
    message_id: str | None = "<q1@example.jp>",
    **options: str,
) -> bytes:
    return compose(body, subject=subject, message_id=message_id, **options)


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if "subject" in e))
def test_fixture_mails_decode_to_the_words_the_sender_typed(name: str) -> None:
    expected = EXPECTED[name]
    parsed = parse((DATA / name).read_bytes(), max_bytes=LIMIT)
    assert parsed.text == expected["text"]
    assert parsed.subject == expected["subject"]
    assert parsed.sender_name == expected["name"]
    assert parsed.sender_address == expected["address"]
    assert list(parsed.attachments) == expected["attachments"]


@pytest.mark.parametrize(
    ("charset", "cte"),
    [
        ("iso-2022-jp", "7bit"),
        ("shift_jis", "base64"),
        ("shift_jis", "8bit"),
        ("cp932", "quoted-printable"),
        ("euc-jp", "base64"),
        ("euc-jp", "8bit"),
        ("utf-8", "quoted-printable"),
        ("utf-8", "base64"),
        ("utf-8", "8bit"),
    ],
)
def test_each_japanese_charset_and_transfer_encoding(charset: str, cte: str) -> None:
    parsed = parse(build(charset=charset, cte=cte), max_bytes=LIMIT)
    assert parsed.text == TEXT
    assert parsed.subject == "【anshin】お問い合わせ"
    assert parsed.sender_name == "山田 太郎"
    assert parsed.sender_address == "taro@example.jp"
    assert parsed.message_id == "<q1@example.jp>"
    assert parsed.locale == "ja"
    assert parsed.notes == ()


def test_iso_2022_jp_with_windows_characters_reads_as_windows_meant() -> None:
    """①, ㈱ and Ⅲ under ISO-2022-JP: Python's codec refuses them, the mail must not lose them."""
    raw = EXPECTED["01-iso2022jp-becky.eml"]["text"]
    assert "①" in raw and "㈱" in raw
    jis = bytes.fromhex("1b2442 2d21 1b2842".replace(" ", ""))  # ① as JIS row 13
    assert decode_bytes(jis, "iso-2022-jp") == "①"
    parsed = parse((DATA / "01-iso2022jp-becky.eml").read_bytes(), max_bytes=LIMIT)
    assert parsed.notes == ()  # Windows' usual ISO-2022-JP is not a fault of the mail
    assert "①" in parsed.text and "㈱" in parsed.text


@pytest.mark.parametrize(
    ("encoded", "label", "read_as"),
    [
        ("utf-8", "iso-2022-jp", "utf-8"),  # 8-bit UTF-8 under a 7-bit label
        ("cp932", "utf-8", "cp932"),
        ("euc_jp", "shift_jis", "euc_jp"),
        ("cp932", "euc-jp", "cp932"),
        ("utf-8", "x-no-such-charset", "utf-8"),
    ],
)
def test_a_mislabelled_charset_is_read_by_what_the_bytes_are(
    encoded: str, label: str, read_as: str
) -> None:
    notes: list[str] = []
    assert decode_bytes(TEXT.encode(encoded), label, notes) == TEXT
    assert notes and read_as in notes[0]


def test_a_mislabelled_body_does_not_stop_the_mail() -> None:
    body = TEXT.encode("cp932")
    raw = (
        b"From: a@example.jp\r\nSubject: x\r\nMessage-ID: <m@x>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ) + body.replace(b"\n", b"\r\n")
    parsed = parse(raw, max_bytes=LIMIT)
    assert parsed.text == TEXT
    assert parsed.notes


def test_bytes_nothing_decodes_become_replacement_characters_not_an_error() -> None:
    raw = (
        b"From: a@example.jp\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-2022-jp\r\n\r\n"
        b"ok \x1b$B\xff\xfe\x00\x1b(B end\r\n"
    )
    parsed = parse(raw, max_bytes=LIMIT)
    assert parsed.text.startswith("ok ") and parsed.text.endswith(" end\n")
    assert "\x00" not in parsed.text
    parsed.text.encode("utf-8")  # storable


def test_rfc_2047_headers_in_every_japanese_charset_and_raw_8bit() -> None:
    sjis_q = "=?Shift_JIS?Q?" + "".join(f"={b:02X}" for b in "障害".encode("cp932")) + "?="
    jis_b = "=?ISO-2022-JP?B?" + base64.b64encode("について".encode("iso2022_jp")).decode() + "?="
    raw = (
        f"From: =?EUC-JP?B?{base64.b64encode('佐藤'.encode('euc_jp')).decode()}?= <s@x.jp>\r\n"
        f"Subject: Re: {sjis_q}\r\n {jis_b}\r\n"
        "Message-ID: <h@x>\r\n\r\nbody\r\n"
    ).encode()
    parsed = parse(raw, max_bytes=LIMIT)
    assert parsed.subject == "Re: 障害について"
    assert parsed.sender_name == "佐藤"
    # An old mailer's raw Shift_JIS header bytes (no encoded word at all).
    raw8 = b"From: " + "木村".encode("cp932") + b" <k@x.jp>\r\nSubject: " + "至急".encode("cp932")
    parsed = parse(raw8 + b"\r\n\r\nbody\r\n", max_bytes=LIMIT)
    assert parsed.subject == "至急"
    assert parsed.sender_name == "木村"


def test_quoted_encoded_word_names_and_unknown_header_charsets() -> None:
    name = "=?ISO-2022-JP?B?" + base64.b64encode("高橋".encode("iso2022_jp")).decode() + "?="
    raw = f'From: "{name}" <t@x.jp>\r\nSubject: =?x-bogus?B?44GC?=\r\n\r\nhi\r\n'.encode()
    parsed = parse(raw, max_bytes=LIMIT)
    assert parsed.sender_name == "高橋"
    assert parsed.subject == "あ"


def test_alternative_prefers_plain_and_html_only_becomes_text() -> None:
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["Subject"] = "x"
    message.set_content("plain words\n")
    message.add_alternative("<p>html words</p>", subtype="html")
    assert parse(message.as_bytes(), max_bytes=LIMIT).text == "plain words\n"
    html = EXPECTED["06-html-only.eml"]
    parsed = parse((DATA / "06-html-only.eml").read_bytes(), max_bytes=LIMIT)
    assert parsed.html_only and parsed.text == html["text"]
    assert "alert" not in parsed.text and "color" not in parsed.text and "<" not in parsed.text


def test_html_to_text_drops_scripts_styles_and_tags() -> None:
    text = html_to_text(
        "<div>一行目<br>二行目</div><script>document.write('x')</script>"
        "<style>.a{}</style><ul><li>A &amp; B</li><li>C&lt;D</li></ul>"
    )
    assert text == "一行目\n二行目\n\nA & B\n\nC<D"


def test_attachments_are_named_not_kept() -> None:
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["Subject"] = "x"
    message.set_content("see attached\n")
    message.add_attachment(b"\x89PNG...", maintype="image", subtype="png", filename="画面.png")
    message.add_attachment(b"log", maintype="text", subtype="plain", filename="error.log")
    parsed = parse(message.as_bytes(), max_bytes=LIMIT)
    assert parsed.text == "see attached\n"
    assert parsed.attachments == ("画面.png", "error.log")


def test_text_split_around_an_inline_picture_is_read_whole() -> None:
    """Apple Mail's shape: multipart/mixed of text, an inline image, more text."""
    raw = (
        b"From: a@example.jp\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + "画面はこちらです。\r\n".encode()
        + b"--b\r\nContent-Type: image/png\r\nContent-Disposition: inline\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + "よろしくお願いします。\r\n".encode()
        + b"--b--\r\n"
    )
    parsed = parse(raw, max_bytes=LIMIT)
    assert parsed.text == "画面はこちらです。\nよろしくお願いします。"  # CRLF before --b is MIME's
    assert parsed.attachments == ()


def test_threading_headers_and_the_reference_in_the_subject() -> None:
    raw = build(
        subject="Re: 【anshin】お問い合わせへのご回答（Q-2026-000123）",
        In_Reply_To="<anshin.delivery.7@anshin.local>",
        References="<q0@example.jp> <anshin.delivery.7@anshin.local>",
    )
    parsed = parse(raw, max_bytes=LIMIT)
    assert parsed.reference == "Q-2026-000123"
    assert parsed.in_reply_to == ("<anshin.delivery.7@anshin.local>",)
    assert parsed.references == ("<q0@example.jp>", "<anshin.delivery.7@anshin.local>")
    assert parsed.thread_ids == ("<anshin.delivery.7@anshin.local>", "<q0@example.jp>")
    assert find_reference("Ｒｅ：ご回答（Ｑ－２０２６－０００１２３）") == "Q-2026-000123"
    assert find_reference("q-2026-1234567 follow-up") == "Q-2026-1234567"
    assert find_reference("XQ-2026-000123") is None
    assert find_reference("Q-2026-00012") is None


def test_a_mail_without_message_id_gets_one_from_its_bytes() -> None:
    raw = build(message_id=None)
    first, again = parse(raw, max_bytes=LIMIT), parse(raw, max_bytes=LIMIT)
    assert first.message_id == again.message_id and first.message_id.startswith("<")
    assert parse(build(body="other\n", message_id=None), max_bytes=LIMIT).message_id != (
        first.message_id
    )


def test_automatic_replies_and_bounces_are_recognised() -> None:
    assert parse(build(Auto_Submitted="auto-replied"), max_bytes=LIMIT).automatic
    assert parse(build(Precedence="bulk"), max_bytes=LIMIT).automatic
    assert parse(build(sender="MAILER-DAEMON@mx.example.jp"), max_bytes=LIMIT).automatic
    assert not parse(build(Auto_Submitted="no"), max_bytes=LIMIT).automatic
    assert not parse(build(), max_bytes=LIMIT).automatic


@pytest.mark.parametrize(
    ("raw", "msgid"),
    [
        ((DATA / "08-garbage.eml").read_bytes(), mail.NOT_A_MAIL),
        (b"", mail.NOT_A_MAIL),
        ((DATA / "09-no-from.eml").read_bytes(), mail.NO_SENDER),
        (b"From: not an address\r\nSubject: x\r\n\r\nbody\r\n", mail.NO_SENDER),
        ((DATA / "10-no-body.eml").read_bytes(), mail.NO_TEXT),
        (b"From: a@x.jp\r\nContent-Type: image/png\r\n\r\nAAAA\r\n", mail.NO_TEXT),
        (
            b"From: a@x.jp\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
            b"Content-Type: application/pdf\r\n\r\n%PDF\r\n--zz--\r\n",
            mail.NO_TEXT,
        ),
    ],
)
def test_malformed_mail_is_refused_with_its_reason(raw: bytes, msgid: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(raw, max_bytes=LIMIT)
    assert refused.value.msgid == msgid


def test_a_mail_over_the_limit_is_refused_before_reading() -> None:
    raw = build(body="あ" * 3000)
    with pytest.raises(InvalidInput) as refused:
        parse(raw, max_bytes=4096)
    assert refused.value.msgid == mail.TOO_LARGE
    assert refused.value.params == {"size": len(raw), "limit": 4096}
    assert parse(raw, max_bytes=len(raw)).text == "あ" * 3000 + "\n"


def test_mime_structures_that_break_the_parser_are_refused_not_raised() -> None:
    """A fuzz of truncated and shuffled real mails: a parse or a clear refusal, nothing else."""
    originals = [(DATA / n).read_bytes() for n in sorted(EXPECTED) if n.endswith(".eml")]
    for raw in originals:
        for cut in range(0, len(raw), max(1, len(raw) // 25)):
            for sample in (raw[:cut], raw[cut:], raw[::-1][:cut]):
                try:
                    parsed = parse(sample, max_bytes=LIMIT)
                except InvalidInput:
                    continue
                parsed.text.encode("utf-8")
                assert "\x00" not in parsed.text + parsed.subject
