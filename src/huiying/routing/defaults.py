"""The shipped routing rules (SPEC.md §3) and the teams they need beyond accounts' defaults."""

from __future__ import annotations

from typing import Any

from huiying.accounts.defaults import TeamSeed

# Teams only routing needs: the VIP lane and the product-suggestion desk.
ROUTING_TEAMS: list[TeamSeed] = [
    TeamSeed("vip-lane", "VIP专线", "VIP lane"),
    TeamSeed("product-suggestions", "产品建议", "Product suggestions", "general"),
]


def _rule(rule_id: str, name: str, when: dict[str, Any], then: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": rule_id, "name": name, "when": when, "then": then, **extra}


def default_rule_dicts() -> list[dict[str, Any]]:
    """In order: lanes first (they win the team), then the specific sub-categories, then the
    category as a whole. Priority-only rules come first too: they set no team. The lanes set no
    SLA policy: the SLA's own matching gives VIP and special groups theirs, and an urgent VIP
    ticket keeps the stricter urgent targets."""
    return [
        _rule(
            "vip-lane",
            "VIP 专线 / VIP lane",
            {"vip": True},
            {"team": "vip-lane", "tags": ["vip"]},
        ),
        _rule(
            "special-group",
            "特殊群体优先 / Special groups first",
            {"special_group": ["accessibility", "elderly", "minor"]},
            {"team": "vip-lane", "tags": ["特殊关怀"]},
        ),
        _rule(
            "urgent-senior",
            "紧急 → 资深客服 / Urgent → a senior agent",
            {"priority": ["urgent"]},
            {"assignee_role": "senior", "assignment_mode": "least_loaded"},
        ),
        _rule(
            "security",
            "账号安全与隐私 → 安全组 / Account security → security",
            {"subcategory": ["account-security", "privacy-leak", "illegal-content"]},
            {"team": "security"},
        ),
        _rule(
            "tech-network",
            "网络问题 → 网络组 / Network → network group",
            {"category": ["technical"], "subcategory": ["stream-lag"]},
            {"team": "tech-network"},
        ),
        _rule(
            "tech-network-words",
            "提到网络 → 网络组 / Mentions the network → network group",
            {"category": ["technical"], "keywords": ["网络", "断网", "连不上", "wifi", "4g", "5g", "network"]},
            {"team": "tech-network"},
        ),
        _rule(
            "tech-client",
            "客户端问题 → 客户端组 / Client problems → client group",
            {"category": ["technical"], "subcategory": ["crash", "performance", "bug"]},
            {"team": "tech-client"},
        ),
        _rule(
            "tech-server",
            "登录与支付 → 服务端组 / Login and payments → server group",
            {"category": ["technical"], "subcategory": ["login", "payment-failure"]},
            {"team": "tech-server"},
        ),
        _rule(
            "technical",
            "技术类 → 技术支持 / Technical → tech support",
            {"category": ["technical"]},
            {"team": "tech-support"},
        ),
        _rule(
            "content",
            "内容类 → 内容审核 / Content → content review",
            {"category": ["content"]},
            {"team": "content-review"},
        ),
        _rule(
            "refunds",
            "退款与充值 → 财务 / Refunds and top-ups → finance",
            {"category": ["commercial"], "subcategory": ["refund", "recharge"]},
            {"team": "finance"},
        ),
        _rule(
            "commercial",
            "商业类 → 商家服务 / Commercial → merchant service",
            {"category": ["commercial"]},
            {"team": "merchant"},
        ),
        _rule(
            "product-suggestions",
            "功能建议 → 产品建议 / Feature requests → product suggestions",
            {"category": ["suggestion"], "subcategory": ["feature-request"]},
            {"team": "product-suggestions"},
        ),
        _rule(
            "suggestion",
            "建议与咨询 → 综合服务 / Suggestions → general service",
            {"category": ["suggestion"]},
            {"team": "general"},
        ),
    ]
