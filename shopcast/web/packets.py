"""Socket.IO packets as the live room reads and writes them.

A client can send JSON nested deeper than Python's decoder follows (a browser's JSON has no such
limit, and a few kilobytes of brackets are well under the size limit). python-socketio would fail
to decode the packet, log an error and leave the event without an ack. Here such data reads as
`TOO_DEEP`, which the event's handler answers with a 422 like any other bad data.

What the server sends is encoded with orjson, which also takes parts encoded beforehand
(`orjson.Fragment`): a join's ack carries the room's snapshot, encoded once for every viewer
joining meanwhile (web/room_snapshots.py), and python-socketio looks for binary data only in what
is not already encoded.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from socketio import packet

_SPACE = re.compile(r"\s*")


class _TooDeep:
    """Data nested deeper than the decoder follows."""

    def __repr__(self) -> str:
        return "TOO_DEEP"


TOO_DEEP = _TooDeep()


class _Json:
    """python-socketio's `json` interface (`dumps`, `loads`), with deep nesting read as `TOO_DEEP`."""

    @staticmethod
    def dumps(data: Any, **options: Any) -> str:
        # python-socketio asks for compact separators: orjson's only output. Keys that are not
        # strings are written as strings, as the json module does.
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()

    @staticmethod
    def loads(text: str, **options: Any) -> Any:
        try:
            return json.loads(text, **options)
        except RecursionError:
            return _event_of(text)


def _event_of(text: str) -> Any:
    """`[event, TOO_DEEP]` for an event whose name can still be read, else `TOO_DEEP`."""
    start = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    if not text.startswith("[", start):
        return TOO_DEEP
    try:
        event, _ = json.JSONDecoder().raw_decode(text, _SPACE.match(text, start + 1).end())  # type: ignore[union-attr]
    except (ValueError, RecursionError):
        return TOO_DEEP
    return [event, TOO_DEEP] if isinstance(event, str) else TOO_DEEP


class RoomPacket(packet.Packet):
    """The server's Socket.IO packets (its own class: the client's in the same process are left alone)."""

    json = _Json
