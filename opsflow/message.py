"""One email per recipient: plain text first, HTML as the alternative, the .ics and other files attached.

Headers taken from data (names, subjects) are checked for CR and LF, so a registrant's name can never
add a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

from .errors import InputError
from .render import Rendered


class UnsafeHeaderError(InputError):
    """A header value from data contains a line break."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str  # "text/calendar", "image/png", "text/csv"
    data: bytes
    content_id: str | None = None  # set for an image shown inline in the HTML part


def parse_sender(text: str) -> Address:
    """`セミナー事務局 <seminar@example.jp>` or a bare address -> Address."""
    name, address = parseaddr(text)
    if "@" not in address:
        raise InputError(f"OPSFLOW_MAIL_FROM={text!r} has no email address: write it like "
                         "'セミナー事務局 <seminar@example.jp>'")
    user, domain = address.rsplit("@", 1)
    return Address(display_name=name, username=user, domain=domain)


def build_message(rendered: Rendered, *, sender: Address, to_email: str, to_name: str, now: datetime,
                  reply_to: str | None = None, list_unsubscribe: str | None = None,
                  attachments: tuple[Attachment, ...] = ()) -> EmailMessage:
    """The message for one recipient. Raises UnsafeHeaderError naming the recipient."""
    for label, value in (("name", to_name), ("subject", rendered.subject), ("address", to_email)):
        if "\r" in value or "\n" in value:
            raise UnsafeHeaderError(f"{to_email!r}: the {label} contains a line break; fix it in the registrants "
                                    "or the template")
    user, _, domain = to_email.partition("@")
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = Address(display_name=to_name, username=user, domain=domain)
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message["Auto-Submitted"] = "auto-generated"
    if reply_to:
        message["Reply-To"] = reply_to
    if list_unsubscribe:
        message["List-Unsubscribe"] = f"<{list_unsubscribe}>"
        if list_unsubscribe.startswith("https:"):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text, charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    inline = [a for a in attachments if a.content_id]
    if inline:
        html_part = message.get_payload()[1]
        for item in inline:
            maintype, subtype = item.mime_type.split("/", 1)
            html_part.add_related(item.data, maintype=maintype, subtype=subtype, cid=f"<{item.content_id}>",
                                  filename=item.filename)
    for item in attachments:  # inline images too: some clients show only attachments
        if item.mime_type == "text/calendar":
            _attach_calendar(message, item)
        else:
            maintype, subtype = item.mime_type.split("/", 1)
            message.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)
    return message


def _attach_calendar(message: EmailMessage, item: Attachment) -> None:
    text = item.data.decode("utf-8")
    method = "CANCEL" if "METHOD:CANCEL" in text else "PUBLISH"
    message.add_attachment(text, subtype="calendar", charset="utf-8", filename=item.filename,
                           params={"method": method})
