"""The questionnaire catalogue: every questionnaire and coded list, validated whole when loaded."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from aftersales_contracts.events import ContactPurpose

from .defaults import DEFAULT_CATALOGUE
from .model import CatalogueModel, CodeList, Questionnaire


class QuestionnaireCatalogue(CatalogueModel):
    questionnaires: list[Questionnaire] = Field(min_length=1)
    #: D15/D23: what a reached customer's issues are counted by.
    issue_categories: CodeList
    #: D11/D26: why a lapsed customer stayed away.
    lapse_reasons: CodeList

    @model_validator(mode="after")
    def _one_per_purpose_and_scope(self) -> QuestionnaireCatalogue:
        versions: set[tuple[str, int]] = set()
        scopes: dict[tuple[str, str, str], str] = {}
        for q in self.questionnaires:
            if (q.id, q.version) in versions:
                raise ValueError(f"questionnaire {q.id} v{q.version} is defined twice")
            versions.add((q.id, q.version))
            owners = [("dealer", d) for d in q.dealers] + [("oem", o) for o in q.oems]
            for purpose in q.purposes:
                for owner in owners or [("everyone", "")]:
                    key = (purpose.value, *owner)
                    if key in scopes:
                        raise ValueError(
                            f"purpose {purpose.value} has two questionnaires for "
                            f"{owner[0]} {owner[1]}".rstrip()
                            + f": {scopes[key]} and {q.id} v{q.version}"
                        )
                    scopes[key] = f"{q.id} v{q.version}"
        return self

    def for_purpose(
        self, purpose: ContactPurpose | str, dealer_id: str, oem: str | None = None
    ) -> Questionnaire | None:
        """The most specific questionnaire of the purpose for the dealer; None: not a survey."""
        best: tuple[int, Questionnaire] | None = None
        for q in self.questionnaires:
            if purpose not in q.purposes:
                continue
            rank = q.for_dealer(dealer_id, oem)
            if rank is not None and (best is None or rank > best[0]):
                best = (rank, q)
        return best[1] if best else None

    def for_purposes(
        self, purposes: Iterable[ContactPurpose | str], dealer_id: str, oem: str | None = None
    ) -> list[Questionnaire]:
        """The questionnaires of a (merged) task's purposes, each once, in purpose order."""
        found: dict[tuple[str, int], Questionnaire] = {}
        for purpose in purposes:
            q = self.for_purpose(purpose, dealer_id, oem)
            if q is not None:
                found.setdefault((q.id, q.version), q)
        return list(found.values())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> QuestionnaireCatalogue:
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise ValueError(f"invalid questionnaire catalogue: {error}") from error

    @classmethod
    def load(cls, path: Path | None = None) -> QuestionnaireCatalogue:
        """The catalogue in a JSON file, or the shipped defaults when no path is given."""
        if path is None:
            return default_catalogue()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise ValueError(f"questionnaire catalogue not found: {path}") from error
        except json.JSONDecodeError as error:
            raise ValueError(
                f"questionnaire catalogue {path} is not valid JSON: {error}"
            ) from error
        return cls.from_mapping(data)


def default_catalogue() -> QuestionnaireCatalogue:
    return QuestionnaireCatalogue.from_mapping(DEFAULT_CATALOGUE)
