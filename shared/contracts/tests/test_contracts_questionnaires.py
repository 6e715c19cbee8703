"""The questionnaire catalogue (D16, D17): the shipped defaults, validation on load, lookup."""

import copy
import json

import pytest
from aftersales_contracts import FIXED_FIRST_TIME, ContactPurpose, Scores
from aftersales_contracts.questionnaires import (
    CSI_ID,
    DEFAULT_CATALOGUE,
    SMS_SURVEY_ID,
    SSI_ID,
    ItemKind,
    QuestionnaireCatalogue,
    default_catalogue,
)


def test_the_default_csi_has_the_d16_items_and_the_first_time_fix_question():
    csi = default_catalogue().for_purpose(ContactPurpose.SERVICE_CALL_DAY3, "any-dealer")
    assert csi is not None
    assert csi.id == CSI_ID
    assert sorted(csi.item_ids(ItemKind.SCORE)) == sorted(Scores.ITEMS)
    assert csi.item_ids(ItemKind.YES_NO) == [FIXED_FIRST_TIME]
    assert all(item.text.zh and item.text.en for item in csi.items)


def test_the_default_ssi_serves_the_sales_call_with_scored_and_yes_no_items():
    ssi = default_catalogue().for_purpose(ContactPurpose.SALES_CALL_DAY3, "any-dealer")
    assert ssi is not None
    assert ssi.id == SSI_ID
    assert "product_knowledge" in ssi.item_ids(ItemKind.SCORE)
    assert ssi.item_ids(ItemKind.YES_NO) == ["test_drive_invited"]


def test_care_calls_have_no_questionnaire():
    assert default_catalogue().for_purpose(ContactPurpose.BIRTHDAY_CARE, "d") is None


def _with(extra: dict) -> dict:
    data = copy.deepcopy(DEFAULT_CATALOGUE)
    data["questionnaires"].append(extra)
    return data


SHORT = {
    "id": "csi-short",
    "version": 2,
    "title": {"zh": "简版", "en": "Short"},
    "purposes": ["service_call_day3"],
    "items": [{"id": "overall", "kind": "score", "text": {"zh": "总体", "en": "Overall"}}],
}


def test_a_dealers_own_questionnaire_wins_over_its_oems_and_the_default():
    data = _with({**SHORT, "oems": ["oem-a"]})
    data["questionnaires"].append({**SHORT, "id": "csi-mine", "dealers": ["dealer-1"]})
    catalogue = QuestionnaireCatalogue.from_mapping(data)
    day3 = ContactPurpose.SERVICE_CALL_DAY3
    assert catalogue.for_purpose(day3, "dealer-1", "oem-a").id == "csi-mine"  # type: ignore[union-attr]
    assert catalogue.for_purpose(day3, "dealer-2", "oem-a").id == "csi-short"  # type: ignore[union-attr]
    assert catalogue.for_purpose(day3, "dealer-3", None).id == CSI_ID  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (_with(SHORT), "two questionnaires"),
        (_with({**SHORT, "id": CSI_ID, "version": 1, "oems": ["o"]}), "defined twice"),
        (_with({**SHORT, "oems": ["o"], "items": SHORT["items"] * 2}), "listed twice"),
        (
            _with({**SHORT, "oems": ["o"], "items": [{**SHORT["items"][0], "kind": "stars"}]}),
            "kind",
        ),
        (_with({**SHORT, "oems": ["o"], "purposes": ["teatime"]}), "purposes"),
        (_with({**SHORT, "oems": ["o"], "title": {"zh": "", "en": "x"}}), "title"),
    ],
)
def test_a_broken_catalogue_is_refused_on_load(broken, message, tmp_path):
    path = tmp_path / "questionnaires.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        QuestionnaireCatalogue.load(path)


def test_the_shipped_defaults_load_from_their_own_json(tmp_path):
    path = tmp_path / "questionnaires.json"
    path.write_text(json.dumps(DEFAULT_CATALOGUE, ensure_ascii=False), encoding="utf-8")
    assert QuestionnaireCatalogue.load(path) == default_catalogue()


def test_the_day7_sms_survey_asks_six_scored_items_a_customer_can_type():
    sms = default_catalogue().for_purpose(ContactPurpose.SMS_SURVEY_DAY7, "any-dealer")
    assert sms is not None
    assert sms.id == SMS_SURVEY_ID
    assert sms.item_ids(ItemKind.SCORE) == [
        "environment",
        "service_process",
        "quality",
        "charges",
        "timeliness",
        "overall",
    ]
    assert sms.item_ids(ItemKind.YES_NO) == []
    assert all(item.label is not None for item in sms.items)
