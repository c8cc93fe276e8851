"""Microseconds per routing evaluation with the default rules (pure part of routing per create).

.venv/bin/python bench/routing_cost.py
"""

from __future__ import annotations

import time

from huiying.routing.defaults import default_rule_dicts
from huiying.routing.rules import Facts, evaluate, facts_text, load_rules

RULES = load_rules(default_rule_dicts())
CASES = [
    Facts(
        category="technical",
        subcategory="payment-failure",
        text=facts_text("支付失败", "充值会员的时候提示支付失败" * 5),
    ),
    Facts(category="suggestion", subcategory="question", priority="low", text=facts_text("怎么改昵称", "在哪里修改")),
    Facts(category="content", vip=True, priority="urgent", text=facts_text("主播骚扰", "直播间辱骂" * 20)),
]


def main(rounds: int = 20_000) -> None:
    for facts in CASES:
        started = time.perf_counter()
        for _ in range(rounds):
            evaluate(RULES, facts)
        micros = (time.perf_counter() - started) / rounds * 1e6
        print(f"{facts.category:<11} rules={len(RULES)} {micros:6.1f} us/evaluation")


if __name__ == "__main__":
    main()
