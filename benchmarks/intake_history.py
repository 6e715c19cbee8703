"""A year of a 50-store dealer group in intake's database, loaded in bulk: the history that
`python -m benchmarks.intake` measures against (issue 19: figures with and without history).

The documents are the pipeline's own: a few hundred generated work orders go through intake's
pure domain (`normalise`, `Pass`) to give real record documents, vehicle files, index entries and
outbox marks; the history repeats them under fresh ids (one work order in `VISITS_PER_VEHICLE`
is a return visit of a known vehicle), inserted with `insert_many` in chunks. A share of the
benchmark's own input (`returning`) finds its vehicle already on file, as returning customers do.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aftersales_intake.domain.decisions import Pass
from aftersales_intake.domain.records import Normalised, normalise
from aftersales_intake.store import RECORD_COLLECTIONS, stored_file
from aftersales_runtime.bulk import insert_new
from aftersales_runtime.outbox import MARKS, mark_id
from pymongo.asynchronous.database import AsyncDatabase
from tqdm import tqdm

STORES = 50
VISITS_PER_VEHICLE = 2.5  # a year: services, repairs, a warranty job
TEMPLATES = 200
CHUNK = 1000
Doc = dict[str, Any]


def store_ids(configured: list[str]) -> list[str]:
    """The group's stores: the configured dealers (the benchmark's input) and the rest."""
    return [*configured, *(f"dealer-grp-{n:03d}" for n in range(len(configured), STORES))]


def templates(orders: Iterable[dict[str, Any]]) -> tuple[list[Doc], list[Doc]]:
    """Record documents and vehicle files of real generated orders, through the pure domain."""
    shanghai = ZoneInfo("Asia/Shanghai")
    done = Pass("workorder", {}, {}, {}, {}, datetime.now(UTC))
    for order in orders:
        raw = json.dumps(order, ensure_ascii=False).encode()
        found = normalise(raw, "workorder", lambda _: shanghai, datetime.now(UTC))
        if isinstance(found, Normalised):
            done.accept(found)
    new_files, _ = done.changed_vehicle_files()
    return done.new_records(), new_files


def _vin(n: int) -> str:
    return f"HISTORY{n:010d}"


def history_documents(
    work_orders: int, stores: list[str], records: list[Doc], files: list[Doc]
) -> Iterator[tuple[str, Doc]]:
    """(collection, document) of the whole history, vehicle by vehicle."""
    vehicles = max(1, round(work_orders / VISITS_PER_VEHICLE))
    collection = RECORD_COLLECTIONS["workorder"]
    for v in range(vehicles):
        dealer, vin = stores[v % len(stores)], _vin(v)
        visits = range(v, work_orders, vehicles)
        file = copy.deepcopy(files[v % len(files)])
        history: list[Doc] = []
        revisions: list[Doc] = []
        for n in visits:
            record = dict(records[n % len(records)])
            key = f"{dealer}/WO-H{n:08d}"
            record.update(_id=key, dealer_id=dealer, record_id=f"WO-H{n:08d}", vin=vin)
            yield collection, record
            yield MARKS, {"_id": mark_id(collection, key), "revision": 1}
            entry = dict(file["history"][0])
            history.append({**entry, "record_id": f"WO-H{n:08d}"})
            source = {**file["revisions"][0]["source"], "record_id": f"WO-H{n:08d}"}
            revisions.append(
                {**file["revisions"][0], "revision": len(revisions) + 1, "source": source}
            )
        plate, phone = f"粤Z{v:07d}", f"+86139{v:08d}"
        file.update(
            _id=f"{dealer}/{vin}", dealer_id=dealer, vin=vin, history=history,
            revision=len(revisions), revisions=revisions, plates=[plate], phones=[phone],
            plate=plate,
        )  # fmt: skip
        yield "vehicles", stored_file(file)
        yield "plates", {"_id": f"{dealer}/{plate}", "vins": [vin], "dealer_id": dealer}
        yield "phones", {"_id": f"{dealer}/{phone}", "vins": [vin], "dealer_id": dealer}


def returning_files(orders: Iterable[dict[str, Any]], files: list[Doc]) -> Iterator[Doc]:
    """Vehicle files of the benchmark input's VINs, with one earlier visit each."""
    for n, order in enumerate(orders):
        file = copy.deepcopy(files[n % len(files)])
        vin = order["vin"].strip().upper()
        file.update(_id=f"{order['dealer_id']}/{vin}", dealer_id=order["dealer_id"], vin=vin)
        file["history"] = [{**file["history"][0], "record_id": f"WO-R{n:08d}"}]
        source = {**file["revisions"][0]["source"], "record_id": f"WO-R{n:08d}"}
        file["revisions"] = [{**file["revisions"][0], "source": source}]
        yield file


async def load(
    db: AsyncDatabase[Doc],
    work_orders: int,
    stores: list[str],
    template_orders: Iterable[dict[str, Any]],
    returning: Iterable[dict[str, Any]],
) -> dict[str, int]:
    """Insert the history; returns documents per collection."""
    records, files = templates(template_orders)
    counts: dict[str, int] = {}
    chunks: dict[str, list[Doc]] = {}
    writes: set[asyncio.Task[Any]] = set()

    async def insert(collection: str, docs: list[Doc]) -> None:
        await insert_new(db, collection, docs)  # a returning VIN met twice: stored once

    def documents() -> Iterator[tuple[str, Doc]]:
        yield from history_documents(work_orders, stores, records, files)
        for file in returning_files(returning, files):
            yield "vehicles", stored_file(file)

    started = time.perf_counter()
    with tqdm(total=work_orders, desc="history", unit="wo", file=sys.stderr, mininterval=2) as bar:
        for collection, doc in documents():
            chunks.setdefault(collection, []).append(doc)
            counts[collection] = counts.get(collection, 0) + 1
            if collection == RECORD_COLLECTIONS["workorder"]:
                bar.update()
            if len(chunks[collection]) >= CHUNK:
                writes.add(asyncio.create_task(insert(collection, chunks.pop(collection))))
                if len(writes) >= 4:  # inserts hold no cursor: a few at once are safe
                    done, writes = await asyncio.wait(writes, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()
        await asyncio.gather(*writes, *(insert(c, docs) for c, docs in chunks.items()))
    counts["seconds"] = round(time.perf_counter() - started)
    return counts
