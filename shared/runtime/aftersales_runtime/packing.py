"""Values stored packed: FerretDB reads and rewrites a whole document on every read and
update, at a cost that follows the number of values in it (issue 19).

- `pack_fields`: named fields as one JSON text each. A list that grows at every visit, or a
  nested copy only ever written and read whole (the scheduler's people).
- `pack_bson`: a value as one BSON binary, its types kept exactly (datetimes too): reporting's
  drill-down rows. `pack_document`: a document's fields as inserted in one BSON binary, the
  fields updated since at the top level: for documents read by `_id` only (intake's vehicle
  files, the scheduler's timers, contact data and time line buckets, contact's tasks).

Never for a field a query filters on. Reads take either shape: documents stored before are read
as they are. `pack_fields`' are packed when next written; a document stored unpacked before
`pack_document` stays so (its updates set fields at the top level either way).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import bson
from bson.binary import Binary
from bson.codec_options import CodecOptions

Doc = dict[str, Any]

#: The field of a packed document that holds its fields as inserted (but `_id` and the top level).
PACKED = "packed"
_DECODING: CodecOptions[Doc] = CodecOptions(tz_aware=True)


def pack_fields(doc: Doc, fields: Collection[str]) -> Doc:
    """The document (or an update's fields) as stored: each of `fields` present as JSON text."""
    return {
        k: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        if k in fields and v is not None
        else v
        for k, v in doc.items()
    }


def unpack_fields(doc: Doc, fields: Collection[str]) -> Doc:
    """A stored document as its readers see it, each of `fields` packed or not."""
    return {k: json.loads(v) if k in fields and isinstance(v, str) else v for k, v in doc.items()}


def pack_bson(value: Doc) -> Binary:
    """A value as one BSON binary."""
    return Binary(bson.encode(value))


def unpack_bson(stored: bytes) -> Doc:
    """What `pack_bson` packed (datetimes in UTC, aware)."""
    return bson.decode(stored, _DECODING)


def pack_document(doc: Doc, top_level: Collection[str] = ()) -> Doc:
    """A document as inserted: its `_id`, the fields named `top_level` as they are (those
    that updates `$push` to), and the rest as one BSON binary, `PACKED`.

    Updates `$set` fields at the top level as before (never `$unset`: set `None`); a field at
    the top level wins over its packed value when read. So concurrent updates of different
    fields still both land, as they do on an unpacked document."""
    kept = {"_id", *top_level}
    return {
        **{k: v for k, v in doc.items() if k in kept},
        PACKED: pack_bson({k: v for k, v in doc.items() if k not in kept}),
    }


def unpack_document(stored: Doc) -> Doc:
    """A stored document as its readers see it, packed or not."""
    if PACKED not in stored:
        return stored
    top = {k: v for k, v in stored.items() if k != PACKED}
    return {"_id": stored["_id"], **unpack_bson(stored[PACKED]), **top}
