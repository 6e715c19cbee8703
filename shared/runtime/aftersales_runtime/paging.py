"""The one paging rule of every list route: `page: Paged` gives `page.limit` and `page.skip`,
bounded so that no request asks for a page the server will not serve (a skip past 100,000 is
refused with 422: people filter, they do not browse that deep)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

MAX_PAGE = 500
MAX_SKIP = 100_000


@dataclass(frozen=True)
class Page:
    limit: int
    skip: int


def _page(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page")] = 100,
    skip: Annotated[int, Query(ge=0, le=MAX_SKIP, description="items to pass over")] = 0,
) -> Page:
    return Page(limit, skip)


Paged = Annotated[Page, Depends(_page)]
