"""Issue 19's findings, each as it was reproduced: the default rules with the starter models,
as a fresh install decides."""

from __future__ import annotations

import pytest

from huiying.triage.default_rules import DEFAULT_RULES
from huiying.triage.engine import Given, Triage, decide
from huiying.triage.rules import RuleSet
from huiying.triage.starter import load_starter, starter_models

RULES = RuleSet.compile(DEFAULT_RULES)
MODELS = starter_models()


def triage(text: str) -> Triage:
    return decide(text, rules=RULES, models=MODELS, given=Given(channel="app"))


# The probe's urgent cases written indirectly: each came out high or medium.
URGENT = [
    "我账户里的钱莫名其妙少了两千，我什么都没买",
    "有个男的说知道我住哪，要来我家楼下堵我",
    "有人冒充你们客服打电话，让我把钱转到安全账户",
    "提现申请提交一个星期了还是处理中，几万块的收入",
    "付款成功了钱也扣了，订单却显示未支付",
    "所有人都看不了直播，全站都卡死了",
    "我才14岁，不小心充了两千块，我妈会打死我的",
]


@pytest.mark.parametrize("text", URGENT)
def test_indirect_urgent_cases_are_urgent(text: str) -> None:
    assert triage(text).priority.value == "urgent", triage(text).priority


def test_a_suggestion_is_low() -> None:
    assert triage("建议增加夜间模式").priority.value == "low"


def test_many_users_is_not_the_same_as_one() -> None:
    one = triage("我这边看不了直播，一直卡").priority.value
    many = triage("所有人都看不了直播，全站都卡死了").priority.value
    assert many == "urgent" and one != "urgent"


@pytest.mark.parametrize("text", ["refund me now!", "再不处理我就投诉到12315", "你们这是诈骗！马上给我退钱"])
def test_demands_and_anger_are_angry(text: str) -> None:
    assert triage(text).sentiment.value == "angry"


# The starter category model alone answered commercial/product-quality for all of these.
CHINESE = {
    "更新以后一打开就闪退": "technical/crash",
    "直播间画面一直卡，声音也断断续续": "technical/stream-lag",
    "验证码一直收不到，登不上去": "technical/login",
    "这个人的照片是网上盗的明星图": "content/fake-profile",
    "他一直发消息骂我，还发下流的图片": "content/harassment",
    "快递三天了还没到，物流信息不动": "commercial/delivery",
    "会员买了但是特权没生效": "commercial/membership",
    "能不能加个语音转文字的功能": "suggestion/feature-request",
    "请问怎么修改昵称": "suggestion/question",
    "衣服收到就是破的，线头一堆": "commercial/product-quality",
}


def test_the_starter_category_model_works_on_chinese() -> None:
    model = load_starter("category")
    right = sum(model.predict(text).label == label for text, label in CHINESE.items())
    assert right >= 8, {text: model.predict(text).label for text in CHINESE}
