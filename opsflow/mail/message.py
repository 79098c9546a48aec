"""One email per recipient: plain text first, HTML as the alternative, the .ics and other files attached.

Headers taken from data (names, subjects) are checked for CR and LF, so a registrant's name can never
add a header. Messages are written straight to MIME bytes (UTF-8 parts in base64, RFC 2047 headers,
CRLF): a few dozen microseconds instead of the email package's milliseconds, which matters for a
send-out of thousands. What every message of a batch shares (the sender, the subject, the date, an
.ics without personal links) is encoded once and reused. A message with an image shown inline (the
staff summary) is built with the email package, which handles multipart/related.
"""

from __future__ import annotations

import binascii
import functools
import itertools
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

from opsflow.core.errors import InputError
from opsflow.mail.render import Rendered

CRLF = "\r\n"
LINE = 78  # RFC 5322 2.1.1: header lines are folded to this length where they can be
WORD = 75  # RFC 2047 2: the longest encoded word
BASE64_LINE = 76  # RFC 2045 6.8: the longest line of base64 content


class UnsafeHeaderError(InputError):
    """A header value from data cannot be written safely: it contains a line break, or the address has
    characters other than ASCII (which needs SMTPUTF8)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str  # "text/calendar", "image/png", "text/csv"
    data: bytes
    content_id: str | None = None  # set for an image shown inline in the HTML part


@dataclass(frozen=True)
class Outgoing:
    """A finished message: its bytes for SMTP DATA and its Message-ID for the ledger."""

    data: bytes
    message_id: str

    def as_bytes(self) -> bytes:
        return self.data


def parse_sender(text: str) -> Address:
    """`セミナー事務局 <seminar@example.jp>` or a bare address -> Address."""
    name, address = parseaddr(text)
    if "@" not in address:
        raise InputError(
            f"OPSFLOW_MAIL_FROM={text!r} has no email address: write it like 'セミナー事務局 <seminar@example.jp>'"
        )
    user, domain = address.rsplit("@", 1)
    return Address(display_name=name, username=user, domain=domain)


def build_message(
    rendered: Rendered,
    *,
    sender: Address,
    to_email: str,
    to_name: str,
    now: datetime,
    reply_to: str | None = None,
    list_unsubscribe: str | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> Outgoing:
    """The message for one recipient. Raises UnsafeHeaderError naming the recipient."""
    for label, value in (("name", to_name), ("subject", rendered.subject), ("address", to_email)):
        if "\r" in value or "\n" in value:
            raise UnsafeHeaderError(
                f"{to_email!r}: the {label} contains a line break; fix it in the registrants or the template"
            )
    if not to_email.isascii():
        raise UnsafeHeaderError(
            f"{to_email!r}: the address has characters other than ASCII, which this mail server path "
            "cannot carry; ask the person for another address"
        )
    message_id = make_msgid(domain=sender.domain)
    headers: list[tuple[str, str | tuple[str, str]]] = [  # raw values; each writer encodes them
        ("From", (sender.display_name, sender.addr_spec)),
        ("To", (to_name, to_email)),
        ("Subject", rendered.subject),
        ("Date", _date(now)),
        ("Message-ID", message_id),
        ("Auto-Submitted", "auto-generated"),
    ]
    if reply_to:
        headers.append(("Reply-To", reply_to))
    if list_unsubscribe:
        headers.append(("List-Unsubscribe", f"<{list_unsubscribe}>"))
        if list_unsubscribe.startswith("https:"):
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    if any(a.content_id for a in attachments):
        return _with_email_package(rendered, headers, message_id, attachments)
    return Outgoing(_mime(headers, rendered, attachments), message_id)


def _mime(
    headers: list[tuple[str, str | tuple[str, str]]], rendered: Rendered, attachments: tuple[Attachment, ...]
) -> bytes:
    alternative = _multipart(
        "alternative", [_text_part("text/plain", rendered.text), _text_part("text/html", rendered.html)]
    )
    if attachments:
        body = _multipart("mixed", [alternative, *(_attachment(a) for a in attachments)])
    else:
        body = alternative
    lines = [f"{name}: {_header(name, value)}" for name, value in headers]
    lines += ["MIME-Version: 1.0", ""]
    return CRLF.join(lines).encode("ascii") + body


def _header(name: str, value: str | tuple[str, str]) -> str:
    if isinstance(value, str):
        return _encoded(value, name)
    if name == "To":  # a name of its own for each recipient: not worth keeping
        return _address(*value)
    return _shared_address(*value)


def _text_part(content_type: str, text: str) -> bytes:
    return _part(f'Content-Type: {content_type}; charset="utf-8"', text.encode())


def _part(content_type: str, data: bytes, disposition: str = "") -> bytes:
    """A base64 part: its header lines, a blank line and the content, without a line break at the end."""
    head = f"{content_type}\r\nContent-Transfer-Encoding: base64\r\n"
    if disposition:
        head += disposition + "\r\n"
    encoded = binascii.b2a_base64(data, newline=False)
    lines = [encoded[i : i + BASE64_LINE] for i in range(0, len(encoded), BASE64_LINE)]
    return (head + "\r\n").encode("ascii") + b"\r\n".join(lines)


# A boundary never appears in what it separates: base64 lines have no "_", and the random part is new
# in each process, so no header or name can hold it; the counter keeps nested ones apart.
_BOUNDARY_PREFIX = f"=_opsflow_{secrets.token_hex(8)}_"
_BOUNDARIES = itertools.count()


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    boundary = f"{_BOUNDARY_PREFIX}{next(_BOUNDARIES):x}".encode("ascii")
    head = b'Content-Type: multipart/%s; boundary="%s"\r\n\r\n' % (subtype.encode("ascii"), boundary)
    delimiter = b"--" + boundary
    return head + delimiter + b"\r\n" + (b"\r\n" + delimiter + b"\r\n").join(parts) + b"\r\n" + delimiter + b"--\r\n"


@functools.lru_cache(maxsize=16)
def _attachment(item: Attachment) -> bytes:
    """An attached file's part; the same file (an .ics without personal links) is encoded once."""
    content_type = f"Content-Type: {item.mime_type}"
    if item.mime_type.startswith("text/"):
        content_type += '; charset="utf-8"'
    if item.mime_type == "text/calendar":
        method = "CANCEL" if b"METHOD:CANCEL" in item.data else "PUBLISH"
        content_type += f'; method="{method}"'
    disposition = f'Content-Disposition: attachment; filename="{_filename(item.filename)}"'
    return _part(content_type, item.data, disposition)


def _address(name: str, address: str) -> str:
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))  # quoted where the name needs it
    # one encoded word, however long: readers such as Python's email package put a space between two
    # encoded words of a name, although RFC 2047 says to drop it
    return f"=?utf-8?b?{binascii.b2a_base64(name.encode(), newline=False).decode('ascii')}?= <{address}>"


_shared_address = functools.lru_cache(maxsize=16)(_address)  # the sender: the same in every message


@functools.lru_cache(maxsize=64)
def _encoded(value: str, name: str) -> str:
    """A header value as written: ASCII as it is, anything else as RFC 2047 encoded words. The subject
    is usually the same for everyone: it is encoded once."""
    if value.isascii():
        return value
    return _encoded_words(value, LINE - len(name) - 2)


def _encoded_words(value: str, room: int) -> str:
    """`value` as UTF-8 base64 encoded words, folded so that no line is longer than 78 characters
    (`room` is what the first line leaves), never splitting a character between two words."""
    data = value.encode("utf-8")
    words = []
    start = 0
    size = max((min(room, WORD) - len("=?utf-8?b??=")) // 4 * 3, 6)  # raw bytes whose base64 fits
    while start < len(data):
        end = min(start + size, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: cut before its character
            end -= 1
        words.append(f"=?utf-8?b?{binascii.b2a_base64(data[start:end], newline=False).decode('ascii')}?=")
        start = end
        size = (WORD - len("=?utf-8?b??=")) // 4 * 3  # a continuation line: a space and a whole word
    return "\r\n ".join(words)


@functools.lru_cache(maxsize=4)
def _date(now: datetime) -> str:
    return format_datetime(now)


def _filename(name: str) -> str:
    return name if name.isascii() and '"' not in name else "attachment"


def _with_email_package(
    rendered: Rendered,
    headers: list[tuple[str, str | tuple[str, str]]],
    message_id: str,
    attachments: tuple[Attachment, ...],
) -> Outgoing:
    """The slower, general path: text, HTML with inline images (multipart/related), attachments."""
    message = EmailMessage(policy=SMTP)
    for name, value in headers:
        message[name] = Address(display_name=value[0], addr_spec=value[1]) if isinstance(value, tuple) else value
    message.set_content(rendered.text, charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    html_part = list(message.iter_parts())[1]  # the same part as get_payload()[1], typed as a MIMEPart
    for item in attachments:
        maintype, subtype = item.mime_type.split("/", 1)
        # text parts say their charset (a CSV without one opens as mojibake); opsflow writes UTF-8
        params = {"charset": "utf-8"} if maintype == "text" else {}
        if item.content_id:  # shown in the HTML only: attached a second time, readers list it twice
            html_part.add_related(
                item.data,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{item.content_id}>",
                disposition="inline",  # "attachment" here makes some readers list it as a file as well
                filename=item.filename,
            )
        else:
            message.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename, params=params)
    return Outgoing(message.as_bytes(), message_id)
