"""What a result carries besides the outcome (issues 10.5 and 16): the questionnaire shown with
the task and named in the result, yes/no items, issues by category, the lapse reason, the data
check with its phones normalised, timeliness, the sales consultant; 422s name the field."""

from datetime import timedelta

import pytest
from aftersales_contracts import ContactPurpose, Staff
from aftersales_contracts.questionnaires import CSI_ID, SSI_ID, ItemKind, default_catalogue
from aftersales_runtime.kafka import publish_event

pytestmark = pytest.mark.stack

CSI = default_catalogue().for_purpose(ContactPurpose.SERVICE_CALL_DAY3, "dealer-sz-001")
SSI = default_catalogue().for_purpose(ContactPurpose.SALES_CALL_DAY3, "dealer-sz-001")
assert CSI is not None
assert SSI is not None
CSI_ANSWER = {
    "scores": dict.fromkeys(CSI.item_ids(ItemKind.SCORE), 9),
    "yes_no": {"fixed_first_time": False},
}


async def _claimed(client, service, settings, event):
    await publish_event(service.runtime.broker, settings, event)
    answer = await client.post("/v1/dealers/dealer-sz-001/tasks/claim", json={"agent_id": "a1"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _submit(client, task_id, body):
    return await client.post(f"/v1/tasks/{task_id}/result", json={"agent_id": "a1", **body})


async def test_a_claimed_task_shows_the_questions_of_its_purposes(
    client, service, settings, due, published
):
    task = await _claimed(client, service, settings, due(1))

    [questionnaire] = task["questionnaires"]
    assert (questionnaire["id"], questionnaire["version"]) == (CSI_ID, 1)
    items = {item["id"]: item for item in questionnaire["items"]}
    assert items["fixed_first_time"]["kind"] == "yes_no"
    assert items["service_process"]["text"]["zh"].startswith("请您为服务过程打分")


async def test_a_full_answer_is_published_with_every_field(
    client, service, settings, clock, due, published
):
    event = due(1, timely_until=clock.now() + timedelta(hours=1))
    task = await _claimed(client, service, settings, event)
    body = {
        **CSI_ANSWER,
        "outcome": "reached",
        "issues": [{"code": "waiting_time"}, {"code": "other", "text": "洗车不干净"}],
        "data_check": {
            "confirmed": False,
            "phone": "139 1234 5678",
            "actual_user_phone": "0755-8888 6666",
            "mileage_km": 23_500,
        },
    }

    answer = await _submit(client, task["task_id"], body)

    assert answer.status_code == 200, answer.text
    [result] = published
    assert result.questionnaire is not None
    assert (result.questionnaire.id, result.questionnaire.version) == (CSI_ID, 1)
    assert result.scores is not None
    assert result.scores["service_process"] == 9
    assert result.not_fixed_first_time()
    assert [(i.code, i.text) for i in result.issues] == [
        ("waiting_time", None),
        ("other", "洗车不干净"),
    ]
    assert result.data_check is not None
    assert result.data_check.phone == "+8613912345678"
    assert result.data_check.actual_user_phone == "+8675588886666"
    assert result.data_check.mileage_km == 23_500
    assert result.timely is True


async def test_a_call_after_the_window_is_late_and_one_without_a_window_is_neither(
    client, service, settings, clock, due, published
):
    late = await _claimed(client, service, settings, due(1, timely_until=clock.now()))
    clock.advance(timedelta(seconds=1))
    none = await _claimed(client, service, settings, due(2))

    for task in (late, none):
        answer = await _submit(client, task["task_id"], {"outcome": "no_answer"})
        assert answer.status_code == 200, answer.text

    assert [r.timely for r in published] == [False, None]


async def test_the_sales_call_takes_the_ssi_and_carries_the_consultant(
    client, service, settings, due, published
):
    consultant = Staff(id="SC-3", name="赵敏")
    event = due(1, purposes=[ContactPurpose.SALES_CALL_DAY3], sales_consultant=consultant)
    task = await _claimed(client, service, settings, event)
    assert [q["id"] for q in task["questionnaires"]] == [SSI_ID]
    body = {
        "outcome": "reached",
        "scores": dict.fromkeys(SSI.item_ids(ItemKind.SCORE), 10),
        "yes_no": {"test_drive_invited": True},
    }

    answer = await _submit(client, task["task_id"], body)

    assert answer.status_code == 200, answer.text
    assert published[0].sales_consultant == consultant
    assert published[0].questionnaire is not None
    assert published[0].questionnaire.id == SSI_ID


async def test_a_lapsed_customers_reason_is_recorded(client, service, settings, due, published):
    event = due(1, purposes=[ContactPurpose.LAPSED_CUSTOMER_RECALL])
    task = await _claimed(client, service, settings, event)

    answer = await _submit(
        client, task["task_id"], {"outcome": "reached", "lapse_reason": {"code": "other_workshop"}}
    )

    assert answer.status_code == 200, answer.text
    assert published[0].lapse_reason is not None
    assert published[0].lapse_reason.code == "other_workshop"


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"scores": {**CSI_ANSWER["scores"], "quality": 11}}, "body.scores.quality"),
        ({"scores": {**CSI_ANSWER["scores"], "viewing": 9}}, "body.scores.viewing"),
        ({"yes_no": {}}, "body.yes_no.fixed_first_time"),
        ({"issues": [{"code": "price"}, {"code": "noise"}]}, "body.issues.1.code"),
        ({"lapse_reason": {"code": "natural_churn"}}, "body.lapse_reason"),
        ({"data_check": {"confirmed": False, "phone": "12345"}}, "body.data_check.phone"),
        ({"questionnaire": {"id": SSI_ID, "version": 1}}, "body.questionnaire"),
    ],
)
async def test_a_wrong_answer_is_422_naming_the_field(
    client, service, settings, due, published, change, location
):
    task = await _claimed(client, service, settings, due(1))

    answer = await _submit(client, task["task_id"], {"outcome": "reached", **CSI_ANSWER, **change})

    assert answer.status_code == 422
    fields = [error["field"] for error in answer.json()["errors"]]
    assert any(field.startswith(location) for field in fields), fields
    assert published == []
