"""Reading a customer's SMS reply (D4, D16): opt-out words, scores typed on a phone."""

import pytest
from aftersales_contact.domain.sms_replies import ParsedReply, is_opt_out, parse_answers

SIX = ["environment", "service_process", "quality", "charges", "timeliness", "overall"]


@pytest.mark.parametrize(
    "text",
    ["退订", " 退订。", "TD", "td", "Td", "ＴＤ", "ｔｄ", "T", "t", "STOP", "stop", "Ｓｔｏｐ"],
)
def test_opt_out_words_in_any_case_and_width(text):
    assert is_opt_out(text)


@pytest.mark.parametrize("text", ["9 9 8 10 9 7", "不退订可以吗", "TT", "STOPPED", ""])
def test_other_replies_are_not_opt_outs(text):
    assert not is_opt_out(text)


@pytest.mark.parametrize(
    "text",
    ["9 9 8 10 9 7", "9,9,8,10,9,7", "９ ９ ８ １０ ９ ７", "9，9、8；10。9/7", "  9  9 8 10 9 7 "],
)
def test_scores_in_the_questionnaires_order(text):
    assert parse_answers(text, SIX, []) == ParsedReply(
        scores=dict(zip(SIX, [9, 9, 8, 10, 9, 7], strict=True)), yes_no={}
    )


@pytest.mark.parametrize(
    "text", ["9 9 8 10 9", "9 9 8 10 9 7 7", "9 9 8 11 9 7", "9 9 8 -1 9 7", "998109 7", "好"]
)
def test_a_reply_that_is_not_exactly_the_items_is_unreadable(text):
    assert parse_answers(text, SIX, []) is None


def test_yes_no_items_follow_the_scores():
    parsed = parse_answers("9 8 否", ["quality", "overall"], ["fixed_first_time"])
    assert parsed == ParsedReply({"quality": 9, "overall": 8}, {"fixed_first_time": False})
    assert parse_answers("9 8 Y", ["quality", "overall"], ["fixed_first_time"]) is not None
    assert parse_answers("9 8 也许", ["quality", "overall"], ["fixed_first_time"]) is None
