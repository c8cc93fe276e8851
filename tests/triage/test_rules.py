"""Triage rules: matching, merging, validation, JSON, and the shipped default rules.

Every sentence below is hand-written for these tests (realistic, not taken from users).
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huiying.triage.default_rules import (
    DEFAULT_RULES,
    DEFAULT_TAXONOMY,
    default_rule_dicts,
    default_rules,
)
from huiying.triage.rules import (
    MAX_PATTERN_TEXT,
    PRIORITIES,
    SENTIMENTS,
    Rule,
    RuleError,
    RuleSet,
    check_pattern,
    dump_rules,
    load_rules,
    match_form,
    validate_rule,
)

BACKENDS = ("aho-corasick", "regex")


@pytest.fixture(scope="module", params=BACKENDS)
def defaults(request: pytest.FixtureRequest) -> Any:
    return RuleSet.compile(DEFAULT_RULES, backend=request.param)


def rule(rule_id: str = "r", **fields: Any) -> Rule:
    fields.setdefault("name", rule_id)
    for key in ("any_of", "all_of", "none_of", "patterns", "channels", "tags"):
        if key in fields:
            fields[key] = tuple(fields[key])
    if not any(k in fields for k in ("category", "priority", "sentiment", "tags")):
        fields["priority"] = "low"
    return Rule(id=rule_id, **fields)


# --- the default rules on realistic feedback -------------------------------------------------

# (text, (category, subcategory) or None for "no category rule", priority, sentiment)
CASES: list[tuple[str, tuple[str, str | None] | None, str | None, str | None]] = [
    # technical
    ("更新以后一打开消息页面就闪退，重装了也没用", ("technical", "crash"), "high", None),
    ("App直接崩溃了，聊天记录全没了，气死了", ("technical", "crash"), "high", "angry"),
    ("The app keeps crashing every time I open a profile.", ("technical", "crash"), "high", None),
    ("晚上看直播画面一直转圈，声音和画面不同步", ("technical", "stream-lag"), "medium", None),
    (
        "The live stream stutters and freezes every few seconds",
        ("technical", "stream-lag"),
        "medium",
        None,
    ),
    ("最近手机发烫得厉害，App后台特别耗电", ("technical", "performance"), "low", None),
    ("上传头像一直提示上传失败，换了几张图都不行", ("technical", "bug"), "medium", None),
    ("Messages won't send and I get an error code 502", ("technical", "bug"), "medium", None),
    ("换了新手机之后一直收不到验证码", ("technical", "login"), "high", None),
    # one user who cannot log in is high; many users (impact scope, in the engine) make it urgent
    ("从昨天开始就登录不上了，一直提示网络错误", ("technical", "login"), "high", None),
    ("登陆不了账号，急用！！！", ("technical", "login"), "high", "angry"),
    (
        "I can’t log in since this morning, it says my password is wrong",
        ("technical", "login"),
        "high",
        None,
    ),
    ("I'm locked out of my account after the update", ("technical", "login"), "high", None),
    # urgent: account theft
    (
        "我的号被盗了，对方把密码改了还在用我的账号发广告",
        ("technical", "account-security"),
        "urgent",
        None,
    ),
    (
        "收到提醒说账号在陌生设备登录，不是我本人操作",
        ("technical", "account-security"),
        "urgent",
        None,
    ),
    (
        "My account got hacked and someone is messaging my matches",
        ("technical", "account-security"),
        "urgent",
        None,
    ),
    (
        "Someone logged into my account from another country",
        ("technical", "account-security"),
        "urgent",
        None,
    ),
    # urgent: money taken twice / payment failed
    ("买会员的时候网络卡了，结果被扣了两次钱", ("technical", "payment-failure"), "urgent", None),
    ("昨天充值重复扣费了，请把多扣的钱退给我", ("technical", "payment-failure"), "urgent", None),
    ("I was charged twice for one gift pack", ("technical", "payment-failure"), "urgent", None),
    (
        "There is a double charge on my card for the premium plan",
        ("technical", "payment-failure"),
        "urgent",
        None,
    ),
    ("支付失败了但是银行卡显示已经扣款", ("technical", "payment-failure"), "urgent", None),
    (
        "Payment failed three times but my bank shows a pending charge",
        ("technical", "payment-failure"),
        "urgent",
        None,
    ),
    # urgent: privacy leak (override)
    (
        "有人把我的聊天截图和手机号发到了群里，这是隐私泄露",
        ("content", "privacy-leak"),
        "urgent",
        None,
    ),
    ("我被人肉了，对方知道我的住址和公司", ("content", "privacy-leak"), "urgent", None),
    (
        "A user doxxed me and posted my address in the comments",
        ("content", "privacy-leak"),
        "urgent",
        None,
    ),
    ("Someone leaked my private photos", ("content", "privacy-leak"), "urgent", None),
    # urgent: minors (override, no category of their own)
    (
        "我儿子才12岁，偷偷用我的手机给主播打赏了三千块",
        ("content", "host-behavior"),
        "urgent",
        None,
    ),
    ("直播间里的主播明显是未成年人", ("content", "host-behavior"), "urgent", None),
    ("My child spent $200 on coins without asking me", ("commercial", "recharge"), "urgent", None),
    ("This user is clearly underage", None, "urgent", None),
    # urgent: self-harm (override)
    ("分手了，我真的不想活了", None, "urgent", None),
    ("活不下去了，明天就去跳楼", None, "urgent", None),
    ("I want to kill myself, nobody cares", None, "urgent", None),
    ("Feeling suicidal tonight", None, "urgent", None),
    # urgent: illegal content
    ("有人在群里公开卖毒品，还留了联系方式", ("content", "illegal-content"), "urgent", None),
    ("这个直播间在推广网赌网站", ("content", "illegal-content"), "urgent", None),
    ("A profile is advertising a gambling site", ("content", "illegal-content"), "urgent", None),
    # content
    ("这个主播在直播里穿着暴露，还有性暗示动作", ("content", "violation-report"), "high", None),
    ("对方的照片是盗用的网图，聊了两天就开始找我借钱", ("content", "fake-profile"), "medium", None),
    (
        "This is a catfish, the photos are of a famous model",
        ("content", "fake-profile"),
        "medium",
        None,
    ),
    ("被拉黑以后他还用小号继续骚扰我，每天发辱骂信息", ("content", "harassment"), "high", None),
    ("He keeps sending me threatening messages", ("content", "harassment"), "high", None),
    ("主播诱导我们刷礼物，说刷够就线下见面", ("content", "host-behavior"), "medium", None),
    # commercial
    ("收到的衣服有破损，和描述不符", ("commercial", "product-quality"), "medium", None),
    (
        "The phone case arrived broken and looks cheaply made",
        ("commercial", "product-quality"),
        "medium",
        None,
    ),
    ("快递五天了还没发货，物流一直不更新", ("commercial", "delivery"), "medium", None),
    (
        "My parcel never arrived and the tracking number doesn't work",
        ("commercial", "delivery"),
        "medium",
        None,
    ),
    ("退款申请提交一周了还没到账", ("commercial", "refund"), "high", None),
    ("I still haven't received my refund", ("commercial", "refund"), "high", None),
    ("开通了SVIP但是超级喜欢用不了", ("commercial", "membership"), "medium", None),
    ("How do I cancel my premium subscription?", ("commercial", "membership"), "medium", None),
    ("充了500钻石一直没到账", ("commercial", "recharge"), "high", None),
    (
        "红娘老师一个月只给我介绍了一个人，太敷衍了",
        ("commercial", "matchmaker-service"),
        "medium",
        None,
    ),
    (
        "The matchmaker never replies to my messages",
        ("commercial", "matchmaker-service"),
        "medium",
        None,
    ),
    # suggestion
    ("建议增加语音房间功能", ("suggestion", "feature-request"), "low", None),
    ("希望能加个按城市筛选的功能", ("suggestion", "feature-request"), "low", None),
    ("It would be nice to have a dark mode", ("suggestion", "feature-request"), "low", None),
    ("请问怎么修改昵称？", ("suggestion", "question"), "low", None),
    ("How can I change my profile picture?", ("suggestion", "question"), "low", None),
    ("你们的隐私政策里说会保存多久的聊天记录？", ("suggestion", "policy-question"), "low", None),
    ("实名认证上传的身份证会不会泄露？", ("suggestion", "policy-question"), "low", None),
    # other / sentiment
    ("在这里找到了另一半，给你们点个赞！", ("other", None), "low", "positive"),
    ("Great app, I met my partner here. Thanks to the team!", ("other", None), "low", "positive"),
    ("人工客服根本打不通", ("other", None), "low", None),
    ("垃圾平台，骗子公司，我要去315投诉你们", None, "high", "angry"),
    ("This is a scam and I'm going to report you to consumer protection", None, "high", "angry"),
    ("用起来很失望，不好用", None, None, "negative"),
    ("Honestly a bit disappointed with the latest version", None, None, "negative"),
    ("你好", None, None, None),
    ("Hello there", None, None, None),
]


@pytest.mark.parametrize(("text", "category", "priority", "sentiment"), CASES)
def test_default_rules_on_realistic_feedback(
    defaults: Any,
    text: str,
    category: tuple[str, str | None] | None,
    priority: str | None,
    sentiment: str | None,
) -> None:
    outcome = defaults.evaluate(text)
    got_category = (outcome.category.category, outcome.category.subcategory) if outcome.category else None
    assert got_category == category, outcome.reasons()
    assert (outcome.priority.value if outcome.priority else None) == priority, outcome.reasons()
    assert (outcome.sentiment.value if outcome.sentiment else None) == sentiment, outcome.reasons()


def test_case_table_is_big_and_covers_every_subcategory_and_urgent_signal() -> None:
    assert len(CASES) >= 40
    covered = {category for _text, category, _p, _s in CASES if category}
    for parent, children in DEFAULT_TAXONOMY.items():
        for child in children:
            assert (parent, child) in covered, (parent, child)
    assert sum(1 for case in CASES if case[2] == "urgent") >= 20


@pytest.mark.parametrize(
    ("text", "rule_id"),
    [
        ("分手了，我真的不想活了", "urgent-self-harm"),
        ("I want to kill myself", "urgent-self-harm"),
        ("有人把我的照片发到网上，隐私泄露了", "urgent-privacy-leak"),
        ("My daughter bought diamonds with my card", "urgent-minor-spending"),
        ("直播间有未成年在直播", "urgent-minor"),
    ],
)
def test_safety_rules_override_the_model(defaults: Any, text: str, rule_id: str) -> None:
    outcome = defaults.evaluate(text)
    assert outcome.priority is not None
    assert outcome.priority.value == "urgent"
    assert outcome.priority.rule_id == rule_id
    assert outcome.priority.override_model is True
    assert "safety" in outcome.tag_names


def test_reasons_name_the_rule_and_the_matched_words(defaults: Any) -> None:
    outcome = defaults.evaluate("App闪退了，而且我被扣了两次钱！！！")
    reasons = "\n".join(outcome.reasons())
    assert "[crash]: 闪退" in reasons
    assert "[urgent-double-charge]: 扣了两次" in reasons
    assert "[sentiment-angry]: !!!" in reasons
    assert outcome.priority is not None and outcome.priority.rule_id == "urgent-double-charge"
    # The double charge outweighs the crash for the category.
    assert outcome.category is not None and outcome.category.rule_id == "urgent-double-charge"
    assert set(outcome.tag_names) == {"double-charge", "money"}


# --- negation and exclusion ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "absent_rule"),
    [
        ("这次更新以后没有闪退了，谢谢", "crash"),
        ("想死你了，周末见面吧", "urgent-self-harm-wish-to-die"),
        ("There is a minor bug in the chat screen", "urgent-minor"),
        ("实名认证的信息会不会泄露？", "urgent-privacy-leak"),
        ("怎么防止盗号？", "urgent-account-theft"),
        ("确认一下，不是支付失败，是会员没生效", "urgent-payment-failed"),
        ("Please add a badge for verified users", "sentiment-negative"),  # "bad" is a whole word
        ("我的手机号是13152345678", "sentiment-escalation"),  # "315" is a whole number
        ("麻烦尽快处理一下", "sentiment-negative"),  # 麻烦 is polite, not 烦
    ],
)
def test_exclusions_and_word_boundaries(defaults: Any, text: str, absent_rule: str) -> None:
    assert absent_rule not in defaults.evaluate(text).rule_ids


def test_a_veto_word_blocks_the_rule_but_other_rules_still_fire(defaults: Any) -> None:
    outcome = defaults.evaluate("想死你了，但是App一直闪退")
    assert "urgent-self-harm-wish-to-die" not in outcome.rule_ids
    assert "crash" in outcome.rule_ids
    # The strong self-harm rule has no veto, so it fires even next to 想死你了.
    assert "urgent-self-harm" in defaults.evaluate("想死你了，可是我不想活了").rule_ids


def test_none_of_is_what_blocks() -> None:
    text = "没有闪退了"
    with_veto = rule(any_of=["闪退"], none_of=["没有闪退"])
    without_veto = rule(any_of=["闪退"])
    assert not RuleSet.compile([with_veto]).evaluate(text).matched
    assert RuleSet.compile([without_veto]).evaluate(text).matched


# --- matching details ------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("keyword", "text", "matches"),
    [
        ("crash", "It crashed", False),
        ("crash*", "It crashed", True),
        ("crash", "Crash on start", True),
        ("bad", "badge", False),
        ("bad", "so bad!", True),
        ("315", "13152345678", False),
        ("315", "去315投诉", True),
        ("vip", "开通VIP会员", True),
        ("vip", "ＶＩＰ没生效", True),  # full-width letters (NFKC)
        ("can't log in", "I can’t log in", True),  # curly apostrophe
        ("log in", "log    in", True),  # white space collapsed
        ("闪退", "一直闪退啊", True),
        ("!!!", "退钱！！！", True),  # full-width exclamation marks (NFKC)
    ],
)
def test_keyword_matching(backend: str, keyword: str, text: str, matches: bool) -> None:
    compiled = RuleSet.compile([rule(any_of=[keyword])], backend=backend)  # type: ignore[arg-type]
    assert compiled.evaluate(text).matched is matches


def test_all_of_groups_with_alternatives() -> None:
    r = rule(any_of=["孩子", "my kid"], all_of=["充值|打赏|spent", "妈妈|mom"], priority="urgent")
    compiled = RuleSet.compile([r])
    assert compiled.evaluate("孩子偷偷打赏了，妈妈很着急").matched
    assert not compiled.evaluate("孩子偷偷打赏了").matched  # second group missing
    assert not compiled.evaluate("妈妈打赏了").matched  # no any_of keyword
    match = compiled.evaluate("My kid spent it all, says mom").matches[0]
    assert match.keywords == ("my kid", "spent", "mom")


def test_all_of_only_rule() -> None:
    compiled = RuleSet.compile([rule(all_of=["退款", "没到账|未到账"])])
    assert compiled.evaluate("退款三天了还没到账").matched
    assert not compiled.evaluate("退款三天了").matched
    assert not compiled.evaluate("金币没到账").matched


def test_channel_condition() -> None:
    compiled = RuleSet.compile([rule(any_of=["差评"], channels=["app-store"])])
    assert compiled.evaluate("给你们差评", channel="app-store").matched
    assert not compiled.evaluate("给你们差评", channel="email").matched
    assert not compiled.evaluate("给你们差评").matched


def test_patterns_match_and_report_what_they_matched() -> None:
    r = rule(patterns=[r"退款.{0,10}没到账", r"(?<!\d)\d{3}元"])
    outcome = RuleSet.compile([r]).evaluate("退款申请了三天还没到账，一共198元")
    assert outcome.matches[0].pattern_hits == ("退款申请了三天还没到账", "198元")
    assert not RuleSet.compile([r]).evaluate("退款到账了").matched


def test_patterns_only_read_the_start_of_a_long_text() -> None:
    compiled = RuleSet.compile([rule(patterns=["needle"])])
    assert compiled.evaluate("x" * (MAX_PATTERN_TEXT - 10) + " needle").matched
    assert not compiled.evaluate("x" * MAX_PATTERN_TEXT + " needle").matched


def test_disabled_rules_are_skipped() -> None:
    compiled = RuleSet.compile([rule("a", any_of=["闪退"], enabled=False), rule("b", any_of=["卡"])])
    assert len(compiled) == 1
    assert not compiled.evaluate("闪退").matched


def test_no_rules_and_empty_text() -> None:
    assert not RuleSet.compile([]).evaluate("anything").matched
    assert not RuleSet.compile(DEFAULT_RULES).evaluate("").matched


# --- conflict resolution ---------------------------------------------------------------------


def test_category_goes_to_the_highest_weight() -> None:
    low = rule("low", any_of=["会员"], category="commercial", subcategory="membership", weight=1)
    high = rule("high", any_of=["扣款"], category="technical", subcategory="payment-failure", weight=9)
    for order in ([low, high], [high, low]):
        decision = RuleSet.compile(order).evaluate("会员扣款有问题").category
        assert decision is not None
        assert (decision.category, decision.subcategory, decision.rule_id) == (
            "technical",
            "payment-failure",
            "high",
        )


def test_category_ties_go_to_override_then_longer_match_then_earlier_rule() -> None:
    a = rule("a", any_of=["退款"], category="commercial", subcategory="refund")
    b = rule("b", any_of=["退款没到账"], category="commercial", subcategory="recharge")
    c = rule("c", any_of=["退款"], category="other", override_model=True)
    text = "退款没到账"
    assert RuleSet.compile([a, b]).evaluate(text).category.rule_id == "b"  # type: ignore[union-attr]
    assert RuleSet.compile([a, b, c]).evaluate(text).category.rule_id == "c"  # type: ignore[union-attr]
    d = rule("d", any_of=["退款"], category="suggestion", subcategory="question")
    assert RuleSet.compile([a, d]).evaluate(text).category.rule_id == "a"  # type: ignore[union-attr]
    assert RuleSet.compile([d, a]).evaluate(text).category.rule_id == "d"  # type: ignore[union-attr]


def test_priority_is_the_most_urgent_and_sentiment_the_strongest() -> None:
    rules = [
        rule("p-low", any_of=["app"], priority="low", weight=50),
        rule("p-urgent", any_of=["扣款"], priority="urgent"),
        rule("p-high", any_of=["退款"], priority="high"),
        rule("s-pos", any_of=["谢谢"], sentiment="positive", weight=50),
        rule("s-neg", any_of=["失望"], sentiment="negative"),
        rule("s-angry", any_of=["气死"], sentiment="angry"),
    ]
    outcome = RuleSet.compile(rules).evaluate("app扣款又退款，失望，气死，谢谢")
    assert outcome.priority is not None and outcome.priority.value == "urgent"
    assert outcome.priority.rule_id == "p-urgent"
    assert outcome.sentiment is not None and outcome.sentiment.value == "angry"
    assert outcome.sentiment.rule_id == "s-angry"
    outcome = RuleSet.compile(rules).evaluate("失望，谢谢")
    assert outcome.sentiment is not None and outcome.sentiment.value == "negative"


def test_equal_priorities_prefer_the_overriding_rule() -> None:
    plain = rule("plain", any_of=["扣款"], priority="urgent", weight=99)
    safety = rule("safety", any_of=["孩子"], priority="urgent", override_model=True)
    decision = RuleSet.compile([plain, safety]).evaluate("孩子扣款").priority
    assert decision is not None
    assert (decision.rule_id, decision.override_model) == ("safety", True)


def test_tags_are_a_union_with_their_rules_and_refinement_is_any() -> None:
    rules = [
        rule("a", any_of=["退款"], tags=["money", "refund"]),
        rule("b", any_of=["扣款"], tags=["money"], needs_refinement=True),
        rule("c", any_of=["没有的词"], tags=["never"]),
    ]
    outcome = RuleSet.compile(rules).evaluate("扣款后退款")
    assert [(t.tag, t.rule_ids) for t in outcome.tags] == [
        ("money", ("a", "b")),
        ("refund", ("a",)),
    ]
    assert outcome.needs_refinement and outcome.refinement_rule_ids == ("b",)
    assert outcome.rule_ids == ("a", "b")  # rule order, not text order
    assert json.loads(json.dumps(outcome.to_dict()))["tags"] == {
        "money": ["a", "b"],
        "refund": ["a"],
    }


# --- validation ------------------------------------------------------------------------------

GOOD: dict[str, Any] = {
    "id": "crash-zh",
    "name": "闪退",
    "any_of": ["闪退"],
    "category": "technical",
    "subcategory": "crash",
    "priority": "high",
}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"category": "tech"}, "category", "unknown category 'tech'"),
        ({"subcategory": "refund"}, "subcategory", "'technical' has no subcategory 'refund'"),
        ({"category": None}, "subcategory", "a subcategory needs its category"),
        ({"priority": "critical"}, "priority", "unknown priority 'critical'"),
        ({"sentiment": "sad"}, "sentiment", "unknown sentiment 'sad'"),
        ({"any_of": []}, "any_of", "needs at least one keyword"),
        ({"any_of": ["  "]}, "any_of[0]", "empty keyword"),
        ({"any_of": ["闪*退"]}, "any_of[0]", "'*' is only allowed at the end"),
        ({"any_of": ["x" * 65]}, "any_of[0]", "longer than 64"),
        ({"any_of": "闪退"}, "any_of", "must be a list of strings"),
        ({"patterns": ["(unclosed"]}, "patterns[0]", "bad regular expression"),
        ({"patterns": ["(a+)+$"]}, "patterns[0]", "a quantifier inside a quantified group"),
        ({"patterns": ["(a|ab)*c"]}, "patterns[0]", "alternation"),
        ({"patterns": [r"(\w)\1"]}, "patterns[0]", "back-references"),
        ({"patterns": [".*a.*b"]}, "patterns[0]", "more than one unbounded"),
        ({"patterns": ["a{0,500}"]}, "patterns[0]", "a repeat above"),
        ({"patterns": ["x" * 201]}, "patterns[0]", "longer than 200"),
        ({"id": "Crash Rule"}, "id", "id must be"),
        ({"name": ""}, "name", "name must be"),
        ({"tags": ["Urgent Tag"]}, "tags", "is not a slug"),
        ({"weight": 1.5}, "weight", "must be an integer"),
        ({"weight": 5000}, "weight", "must be between"),
        ({"enabled": "yes"}, "enabled", "must be true or false"),
        ({"colour": "red"}, None, "unknown field(s) colour"),
        (
            {"category": None, "subcategory": None, "priority": None},
            None,
            "does nothing",
        ),
    ],
)
def test_validation_errors(change: dict[str, Any], field: str | None, message: str) -> None:
    data = {**GOOD, **change}
    with pytest.raises(RuleError) as error:
        validate_rule(data, taxonomy=DEFAULT_TAXONOMY)
    assert error.value.field == field
    assert message in str(error.value)
    assert "crash-zh" in str(error.value) or field == "id"


def test_missing_required_fields_and_non_objects() -> None:
    with pytest.raises(RuleError, match="name: is required"):
        validate_rule({"id": "x", "any_of": ["a"], "priority": "low"})
    with pytest.raises(RuleError, match="JSON object"):
        validate_rule(["not", "a", "dict"])  # type: ignore[arg-type]


def test_taxonomy_is_only_checked_when_given() -> None:
    data = {**GOOD, "category": "custom", "subcategory": "thing"}
    assert validate_rule(data).category == "custom"
    with pytest.raises(RuleError):
        validate_rule(data, taxonomy=DEFAULT_TAXONOMY)


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(RuleError, match="used by two rules"):
        RuleSet.compile([rule("same", any_of=["a"]), rule("same", any_of=["b"])])
    with pytest.raises(RuleError, match="used by two rules"):
        load_rules([GOOD, GOOD])


@pytest.mark.parametrize(
    "pattern",
    [r"退款.{0,10}没到账", r"(?<!\d)315(?!\d)", r"(?:https?)://\S+", r"订单号[:：]?\d{6,20}"],
)
def test_reasonable_patterns_are_accepted(pattern: str) -> None:
    check_pattern(pattern)


# --- JSON --------------------------------------------------------------------------------------


def test_default_rules_round_trip_through_json() -> None:
    stored = json.loads(json.dumps(default_rule_dicts(), ensure_ascii=False))
    assert load_rules(stored, taxonomy=DEFAULT_TAXONOMY) == list(DEFAULT_RULES)
    assert dump_rules(default_rules()) == stored


_words = st.text(alphabet="闪退扣款abc xyz!", min_size=1, max_size=8).filter(lambda w: match_form(w).strip() != "")


@settings(max_examples=60, deadline=None)
@given(
    any_of=st.lists(_words, min_size=1, max_size=4),
    none_of=st.lists(_words, max_size=2),
    priority=st.sampled_from(PRIORITIES),
    sentiment=st.none() | st.sampled_from(SENTIMENTS),
    weight=st.integers(-1000, 1000),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_any_rule_round_trips_through_json(
    any_of: list[str],
    none_of: list[str],
    priority: str,
    sentiment: str | None,
    weight: int,
    flags: tuple[bool, bool, bool],
) -> None:
    original = Rule(
        id="generated",
        name="Generated",
        any_of=tuple(any_of),
        none_of=tuple(none_of),
        priority=priority,
        sentiment=sentiment,
        weight=weight,
        enabled=flags[0],
        needs_refinement=flags[1],
        override_model=flags[2],
        tags=("t",),
        channels=("app",),
    )
    assert validate_rule(json.loads(json.dumps(original.to_dict()))) == original


# --- both matchers find exactly what a brute-force search finds -------------------------------


def _brute_force(keyword: str, text: str) -> bool:
    """Reference semantics of one keyword, written the slow and obvious way."""
    prefix = keyword.endswith("*")
    needle = match_form(keyword[:-1] if prefix else keyword).strip()
    haystack = match_form(text)

    def word(char: str) -> bool:
        return char.isascii() and char.isalnum()

    for start in range(len(haystack) - len(needle) + 1):
        if haystack[start : start + len(needle)] != needle:
            continue
        end = start + len(needle)
        if word(needle[0]) and start > 0 and word(haystack[start - 1]):
            continue
        if word(needle[-1]) and not prefix and end < len(haystack) and word(haystack[end]):
            continue
        return True
    return False


_alphabet = "ab 1退款Ａ!'’"
_keyword = st.text(alphabet=_alphabet, min_size=1, max_size=4).map(
    lambda k: k if unicodedata.normalize("NFKC", k).strip() else "a"
)


@settings(max_examples=150, deadline=None)
@given(
    keywords=st.lists(st.tuples(_keyword, st.booleans()), min_size=1, max_size=8),
    text=st.text(alphabet=_alphabet, max_size=40),
)
def test_matchers_agree_with_brute_force(keywords: list[tuple[str, bool]], text: str) -> None:
    written = [k + "*" if star else k for k, star in keywords]
    rules = [rule(f"r{i}", any_of=[k]) for i, k in enumerate(written)]
    expected = {f"r{i}" for i, k in enumerate(written) if _brute_force(k, text)}
    for backend in BACKENDS:
        outcome = RuleSet.compile(rules, backend=backend).evaluate(text)  # type: ignore[arg-type]
        assert set(outcome.rule_ids) == expected, backend


def test_default_rules_cover_every_subcategory_in_both_languages() -> None:
    covered = {(r.category, r.subcategory) for r in DEFAULT_RULES if r.category}
    for parent, children in DEFAULT_TAXONOMY.items():
        assert (parent, None) in covered or any(c == parent for c, _ in covered)
        for child in children:
            assert (parent, child) in covered, child
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for default in DEFAULT_RULES:
        words = [*default.any_of, *(word for group in default.all_of for word in group.split("|"))]
        assert any(cjk.search(w) for w in words), default.id
        assert any(w.isascii() for w in words), default.id
    urgent = {r.id for r in DEFAULT_RULES if r.priority == "urgent"}
    assert {"urgent-self-harm", "urgent-privacy-leak", "urgent-minor"} <= urgent
    overriding = {r.id for r in DEFAULT_RULES if r.override_model}
    assert overriding == {
        "urgent-self-harm",
        "urgent-self-harm-wish-to-die",
        "urgent-minor",
        "urgent-minor-spending",
        "urgent-privacy-leak",
        "sentiment-demand",
    }
