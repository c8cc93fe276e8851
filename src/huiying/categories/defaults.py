"""The taxonomy a fresh install ships with (SPEC.md §2); admins edit it afterwards."""

from __future__ import annotations

from typing import NamedTuple


class Node(NamedTuple):
    slug: str
    name_zh: str
    name_en: str
    default_team: str | None = None


DEFAULT_CATEGORIES: list[tuple[Node, list[Node]]] = [
    (
        Node("technical", "技术类", "Technical", "tech-support"),
        [
            Node("crash", "闪退/崩溃", "Crash"),
            Node("stream-lag", "直播卡顿", "Stream stutter"),
            Node("login", "登录问题", "Login problem"),
            Node("payment-failure", "支付失败", "Payment failure"),
            Node("performance", "卡顿/耗电", "Slow or battery drain"),
            Node("bug", "功能异常", "Feature not working"),
            Node("account-security", "账号安全", "Account security", "security"),
        ],
    ),
    (
        Node("content", "内容类", "Content", "content-review"),
        [
            Node("violation-report", "违规举报", "Violation report"),
            Node("fake-profile", "虚假资料", "Fake profile"),
            Node("harassment", "骚扰/辱骂", "Harassment"),
            Node("host-behavior", "主播行为", "Host behaviour"),
            Node("privacy-leak", "隐私泄露", "Privacy leak", "security"),
            Node("illegal-content", "违法内容", "Illegal content", "security"),
        ],
    ),
    (
        Node("commercial", "商业/服务类", "Commercial & service", "merchant"),
        [
            Node("product-quality", "商品质量", "Product quality"),
            Node("delivery", "物流配送", "Delivery"),
            Node("refund", "退款", "Refund", "finance"),
            Node("membership", "会员权益", "Membership rights"),
            Node("recharge", "充值/虚拟币", "Top-up & coins", "finance"),
            Node("matchmaker-service", "红娘服务", "Matchmaker service"),
        ],
    ),
    (
        Node("suggestion", "建议与咨询", "Suggestion & question", "general"),
        [
            Node("feature-request", "功能建议", "Feature request"),
            Node("question", "使用咨询", "How-to question"),
            Node("policy-question", "规则咨询", "Policy question"),
        ],
    ),
    (
        Node("other", "其他", "Other", "general"),
        [],
    ),
]
