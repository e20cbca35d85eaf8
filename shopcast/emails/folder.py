"""Without an SMTP server, each email is kept as an .eml file (RFC 5322, exactly the bytes SMTP would
carry) in `<data dir>/mail/<brand id>/<message id>.eml`, for the brand's staff to read."""

from __future__ import annotations

import asyncio
import os
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from shopcast.emails.compose import mime
from shopcast.outbox.schemas import Outgoing


class Mailbox:
    """The folder of kept emails, one sub-folder per brand."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, brand_id: uuid.UUID, message_id: uuid.UUID) -> Path:
        return self.root / str(brand_id) / f"{message_id}.eml"

    def write(self, brand_id: uuid.UUID, message_id: uuid.UUID, content: bytes) -> Path:
        """Write the file whole or not at all: a crash never leaves half an email."""
        path = self.path(brand_id, message_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(content)
        os.replace(partial, path)
        return path

    def read(self, brand_id: uuid.UUID, message_id: uuid.UUID) -> EmailMessage | None:
        try:
            content = self.path(brand_id, message_id).read_bytes()
        except FileNotFoundError:
            return None
        return BytesParser(policy=policy.default).parsebytes(content)  # type: ignore[return-value]


def mailbox(data_dir: Path) -> Mailbox:
    return Mailbox(data_dir / "mail")


class FolderSender:
    """Keeps each email in the mailbox instead of sending it (the same message on a retry: one file)."""

    def __init__(self, box: Mailbox, *, mail_from: str) -> None:
        self.box = box
        self.mail_from = mail_from

    async def send(self, message: Outgoing) -> str:
        email = mime(message, mail_from=self.mail_from)
        content = email.as_bytes(policy=policy.SMTP)
        path = await asyncio.to_thread(self.box.write, message.brand_id, message.id, content)
        return f"kept in {path.relative_to(self.box.root)}"

    async def close(self) -> None:
        """Files are closed as they are written."""
