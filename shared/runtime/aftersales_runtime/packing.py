"""Fields stored as one JSON text each.

FerretDB reads and rewrites a whole document on every update, at a cost that follows the number
of values in it. So a list that grows at every visit, or a nested copy that is only ever written
and read whole, is stored as one string (issue 19: intake's vehicle file, the scheduler's
people). Never for a field a query filters on. Reads take either shape: documents stored before
are read as they are and packed when next written.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

Doc = dict[str, Any]


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
