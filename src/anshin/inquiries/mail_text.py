"""Mail bytes and markup read as text: charsets, encoded headers, HTML (R18).

Pure, split from ``inquiries.mail`` (which reads a whole mail): this is the
part that decides what the bytes *say*. Japanese mail is the normal case:
ISO-2022-JP, Shift_JIS/cp932, EUC-JP or UTF-8 under labels that are often
wrong, headers in RFC 2047 words or raw 8-bit bytes, bodies sent only as
HTML. A label that lies does not stop the mail: the next candidate that
decodes cleanly is taken and the fallback noted; bytes nothing decodes become
U+FFFD rather than a refusal.
"""

from __future__ import annotations

import email.errors
import email.header
import re
from html.parser import HTMLParser

# What a label says → the codec that reads what senders really put under it.
# Shift_JIS mail is almost always Windows' cp932 (①, ㈱, NEC and IBM extensions),
# a strict superset; ISO-2022-JP likewise often carries cp932's extras.
_ALIASES: dict[str, str] = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "s-jis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "ms932": "cp932",
    "cp932": "cp932",
    "x-euc-jp": "euc_jp",
    "euc-jp": "euc_jp",
    "eucjp": "euc_jp",
    "iso-2022-jp": "iso2022_jp",
    "csiso2022jp": "iso2022_jp",
    "us-ascii": "utf-8",  # 8-bit bytes under a 7-bit label are almost always UTF-8
    "ascii": "utf-8",
    "utf8": "utf-8",
    "x-unknown": "utf-8",
    "unknown-8bit": "utf-8",
}
# Tried in order after the label's own codec when it fails. ISO-2022-JP is 7-bit and
# never decodes 8-bit bytes, so it is tried only when escape sequences are present.
_FALLBACKS: tuple[str, ...] = ("utf-8", "cp932", "euc_jp")
_ISO2022_FALLBACKS: tuple[str, ...] = ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_ext")
ISO2022_CP932 = "iso-2022-jp (cp932 extensions)"  # see _iso2022jp_cp932
_ESC = b"\x1b"


# --- decoding ---------------------------------------------------------------------------


def codec_for(label: str | None) -> str | None:
    """The Python codec for a charset label, through the aliases real mail uses."""
    if not label:
        return None
    name = label.strip().strip('"').lower()
    return _ALIASES.get(name, name)


def _oddness(text: str) -> int:
    """How unlike real text a decoding looks: half-width katakana runs, private-use and
    control characters are what Japanese bytes read in the wrong codec turn into."""
    return sum(
        1
        for ch in text
        if "\uff61" <= ch <= "\uff9f"
        or "\ue000" <= ch <= "\uf8ff"
        or (ch < " " and ch not in "\t\n\r\x0c")
        or "\x7f" <= ch <= "\x9f"
    )


def decode_bytes(data: bytes, label: str | None, notes: list[str] | None = None) -> str:
    """Text from bytes in the labelled charset, or the candidate that reads them most plausibly.

    The label wins when its codec reads the bytes cleanly into plausible text;
    otherwise every candidate that decodes strictly is scored (:func:`_oddness`)
    and the best taken, so EUC-JP under a Shift_JIS label reads as EUC-JP. Never
    raises: when nothing decodes strictly, the label's codec (or UTF-8) decodes
    with U+FFFD for the unreadable bytes, and ``notes`` says so.
    """
    first = codec_for(label)
    candidates: list[str] = [first] if first else []
    if _ESC in data:  # 7-bit JIS reads as valid UTF-8 too: try it before the 8-bit codecs
        candidates.extend((*_ISO2022_FALLBACKS, ISO2022_CP932))
    candidates.extend(_FALLBACKS)
    best: tuple[int, str, str] | None = None
    for codec in dict.fromkeys(candidates):
        try:
            text = _iso2022jp_cp932(data) if codec == ISO2022_CP932 else data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        score = _oddness(text)
        if best is None or score < best[0]:
            best = (score, codec, text)
        if score == 0:
            break
    if best is not None:
        expected = first == "iso2022_jp" and best[1] == ISO2022_CP932  # Windows' usual JIS
        if notes is not None and first and best[1] != first and not expected:
            notes.append(f"charset {label!r} did not decode; read as {best[1]}")
        return best[2]
    if notes is not None:
        notes.append(f"charset {label!r}: unreadable bytes replaced")
    try:
        return data.decode(first or "utf-8", errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


_JIS_MODES: dict[bytes, str] = {
    b"\x1b(B": "ascii",
    b"\x1b(J": "ascii",
    b"\x1b$@": "jis",
    b"\x1b$B": "jis",
    b"\x1b(I": "kana",
}


def _iso2022jp_cp932(data: bytes) -> str:
    """ISO-2022-JP as Windows mailers write it: JIS X 0208 plus cp932's extra rows (①, ㈱,
    Ⅲ — NEC row 13 and the IBM rows), which Python's strict codecs refuse. Each JIS pair is
    moved to its Shift_JIS bytes and read as cp932 (what those mailers meant)."""
    out = bytearray()
    mode = "ascii"
    i = 0
    while i < len(data):
        if data[i] == 0x1B:
            seq = data[i : i + 3]
            if seq not in _JIS_MODES:
                raise UnicodeDecodeError("iso2022_jp", data, i, i + 1, "unknown escape")
            mode = _JIS_MODES[seq]
            i += 3
            continue
        byte = data[i]
        if byte >= 0x80:
            raise UnicodeDecodeError("iso2022_jp", data, i, i + 1, "8-bit byte")
        if mode == "jis" and byte not in (0x0A, 0x0D):
            if i + 1 >= len(data):
                raise UnicodeDecodeError("iso2022_jp", data, i, i + 1, "truncated")
            j1, j2 = byte, data[i + 1]
            s1 = ((j1 + 1) >> 1) + (0x70 if j1 <= 0x5E else 0xB0)
            s2 = j2 + (0x7E if j1 % 2 == 0 else (0x1F if j2 <= 0x5F else 0x20))
            out += bytes((s1, s2))
            i += 2
            continue
        out.append(byte + 0x80 if mode == "kana" and 0x21 <= byte <= 0x5F else byte)
        i += 1
    return out.decode("cp932")


def storable(text: str) -> str:
    """No NUL (PostgreSQL refuses it) and no lone surrogate: each becomes U+FFFD."""
    text = text.replace("\x00", "\ufffd")
    return text.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")


def decode_header(raw: str | None, notes: list[str] | None = None) -> str:
    """A header's text: RFC 2047 encoded words and raw 8-bit bytes decoded, folding undone."""
    if not raw:
        return ""
    value = re.sub(r"\r?\n(?=[ \t])", "", str(raw))
    parts: list[str] = []
    try:
        pieces = email.header.decode_header(value)
    except (email.errors.HeaderParseError, ValueError, LookupError):
        pieces = [(value, None)]
    for chunk, charset in pieces:
        # A str piece: plain text, with any raw 8-bit bytes as surrogate escapes.
        data = chunk.encode("utf-8", errors="surrogateescape") if isinstance(chunk, str) else chunk
        parts.append(decode_bytes(data, charset, notes))
    return storable("".join(parts).strip())


# --- HTML → text ------------------------------------------------------------------------

_BLOCK = frozenset(
    {
        *("p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "hr"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer"),
        *("dd", "dt"),
    }
)
_DROPPED = frozenset({"script", "style", "head", "title", "template", "noscript"})


class _TextOfHtml(HTMLParser):
    """Readable text of an HTML body: tags gone, scripts and styles dropped, blocks on lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self.skip += 1
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """What a person reading the HTML mail would see, as plain lines."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.out).splitlines())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- the mail ---------------------------------------------------------------------------
