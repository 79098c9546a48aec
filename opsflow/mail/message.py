"""One email per recipient: plain text first, HTML as the alternative, the .ics and other files attached.

Headers taken from data (names, subjects) are checked for CR and LF, so a registrant's name can never
add a header. Messages are written straight to MIME bytes (UTF-8 parts in base64, RFC 2047 headers,
CRLF): a few dozen microseconds instead of the email package's milliseconds, which matters for a
send-out of thousands. A message with an image shown inline (the staff summary) is built with the email
package, which handles multipart/related.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

from opsflow.core.errors import InputError
from opsflow.mail.render import Rendered

CRLF = "\r\n"


class UnsafeHeaderError(InputError):
    """A header value from data contains a line break."""


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
    message_id = make_msgid(domain=sender.domain)
    headers: list[tuple[str, str | tuple[str, str]]] = [  # raw values; each writer encodes them
        ("From", (sender.display_name, sender.addr_spec)),
        ("To", (to_name, to_email)),
        ("Subject", rendered.subject),
        ("Date", format_datetime(now)),
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
        "alternative", [_part("text/plain", rendered.text.encode()), _part("text/html", rendered.html.encode())]
    )
    if attachments:
        body = _multipart("mixed", [alternative, *(_attachment(a) for a in attachments)])
    else:
        body = alternative
    lines = [
        f"{name}: {_address(*value) if isinstance(value, tuple) else _encoded(value, name)}" for name, value in headers
    ]
    lines.append("MIME-Version: 1.0")
    return (CRLF.join(lines) + CRLF + body).encode("ascii")


def _part(content_type: str, data: bytes, extra_type: str = "", disposition: str = "") -> str:
    charset = '; charset="utf-8"' if content_type.startswith("text/") else ""
    lines = [f"Content-Type: {content_type}{charset}{extra_type}", "Content-Transfer-Encoding: base64"]
    if disposition:
        lines.append(disposition)
    return CRLF.join(lines) + CRLF + CRLF + base64.encodebytes(data).decode("ascii").replace("\n", CRLF)


def _multipart(subtype: str, parts: list[str]) -> str:
    boundary = f"=_opsflow_{secrets.token_hex(12)}"
    out = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"', ""]
    for part in parts:
        out += [f"--{boundary}", part.rstrip(CRLF)]
    out += [f"--{boundary}--", ""]
    return CRLF.join(out)


def _attachment(item: Attachment) -> str:
    extra = ""
    if item.mime_type == "text/calendar":
        method = "CANCEL" if b"METHOD:CANCEL" in item.data else "PUBLISH"
        extra = f'; method="{method}"'
    return _part(
        item.mime_type, item.data, extra, f'Content-Disposition: attachment; filename="{_filename(item.filename)}"'
    )


def _address(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8") if name else address


def _encoded(value: str, name: str) -> str:
    if value.isascii():
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep=CRLF)


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
