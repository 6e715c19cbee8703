"""What a questionnaire is (D16, D17): its items and wording, whom it is for, and the coded lists
a result draws from (D11, D15)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aftersales_contracts.events import Coded, ContactPurpose, ItemId, QuestionnaireRef
from aftersales_contracts.primitives import NonEmptyStr


class CatalogueModel(BaseModel):
    """A part of the catalogue: frozen, and unknown fields refused, so a typo in a catalogue
    file is an error instead of an ignored setting."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Wording(CatalogueModel):
    """What the agent reads (Chinese) and its English."""

    zh: NonEmptyStr
    en: NonEmptyStr


class ItemKind(StrEnum):
    SCORE = "score"  # 0..10 (D16)
    YES_NO = "yes_no"  # 是否题 (D16)


class QuestionnaireItem(CatalogueModel):
    id: ItemId
    kind: ItemKind
    text: Wording  # the question as the agent reads it
    label: Wording | None = None  # its short name (an SMS survey lists the items by it)

    def short(self) -> Wording:
        return self.label or self.text


class Questionnaire(CatalogueModel):
    id: NonEmptyStr
    version: int = Field(ge=1)
    title: Wording
    purposes: list[ContactPurpose] = Field(min_length=1)
    #: Whom it is for: listed dealers, or every dealer of the listed OEMs; neither = everyone.
    dealers: list[NonEmptyStr] = Field(default_factory=list)
    oems: list[NonEmptyStr] = Field(default_factory=list)
    items: list[QuestionnaireItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _items_once(self) -> Questionnaire:
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(f"questionnaire {self.id}: item {item.id!r} is listed twice")
            seen.add(item.id)
        if self.dealers and self.oems:
            raise ValueError(f"questionnaire {self.id}: name dealers or OEMs, not both")
        return self

    @property
    def ref(self) -> QuestionnaireRef:
        return QuestionnaireRef(id=self.id, version=self.version)

    def item_ids(self, kind: ItemKind) -> list[str]:
        return [item.id for item in self.items if item.kind is kind]

    def answer_problems(
        self, scores: Mapping[str, int] | None, yes_no: Mapping[str, bool] | None
    ) -> list[tuple[str, str]]:
        """(field, why) for every missing item and every item this questionnaire does not have.

        The 0..10 scale itself is the contract's (``Scores``)."""
        problems: list[tuple[str, str]] = []
        for group, kind, given in (
            ("scores", ItemKind.SCORE, scores or {}),
            ("yes_no", ItemKind.YES_NO, yes_no or {}),
        ):
            wanted = self.item_ids(kind)
            for item in wanted:
                if item not in given:
                    problems.append((f"{group}.{item}", f"{group}.{item} is required ({self.id})"))
            for item in given:
                if item not in wanted:
                    problems.append(
                        (
                            f"{group}.{item}",
                            f"{group}.{item} is not a {kind.value} item of questionnaire "
                            f"{self.id} v{self.version}",
                        )
                    )
        return problems

    def for_dealer(self, dealer_id: str, oem: str | None) -> int | None:
        """How specifically it is meant for the dealer: 2 its own, 1 its OEM's, 0 everyone's;
        None when it is not for this dealer."""
        if self.dealers:
            return 2 if dealer_id in self.dealers else None
        if self.oems:
            return 1 if oem is not None and oem in self.oems else None
        return 0


class CodeList(CatalogueModel):
    """A configurable list of codes with their wording (issue categories, lapse reasons).
    The code ``other`` needs the customer's words in ``text``."""

    codes: dict[ItemId, Wording] = Field(min_length=1)

    def problem(self, field: str, value: Coded) -> tuple[str, str] | None:
        if value.code not in self.codes:
            known = ", ".join(sorted(self.codes))
            return (f"{field}.code", f"{field}.code {value.code!r} is not one of: {known}")
        if value.code == OTHER and not (value.text and value.text.strip()):
            return (f"{field}.text", f"{field}.text is required with the code 'other'")
        return None


OTHER = "other"
