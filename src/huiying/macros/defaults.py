"""Macros a fresh install ships with (zh-CN and English)."""

from __future__ import annotations

DEFAULT_MACROS: list[tuple[str, str, str, str | None]] = [
    (
        "受理确认",
        "{{ user_name }}您好，您的反馈（工单号 {{ number }}）我们已经收到，正在加紧处理，"
        "预计24小时内给您答复。您也可以随时通过此链接查看进度：{{ portal_url }}",
        "zh",
        None,
    ),
    (
        "退款已处理",
        "{{ user_name }}您好，您反馈的扣款问题（工单号 {{ number }}）已核实，款项已原路退回，"
        "预计1-3个工作日到账。给您带来不便非常抱歉。客服 {{ agent_name }}",
        "zh",
        "commercial",
    ),
    (
        "请更新版本",
        "{{ user_name }}您好，该问题已在最新版本中修复，请前往应用商店更新后再试。如仍有问题，"
        "请回复本工单（{{ number }}）并附上截图，我们会第一时间跟进。",
        "zh",
        "technical",
    ),
    (
        "举报已处理",
        "{{ user_name }}您好，感谢您的举报（工单号 {{ number }}）。经核实，违规账号已被处理，我们会继续加强审核。",
        "zh",
        "content",
    ),
    (
        "建议已收录",
        "{{ user_name }}您好，感谢您的建议！我们已提交产品团队评估（工单号 {{ number }}），有进展会第一时间通知您。",
        "zh",
        "suggestion",
    ),
    (
        "Acknowledgement",
        "Hello {{ user_name }}, we have received your feedback (ticket {{ number }}) and are "
        "working on it. You can follow its progress here: {{ portal_url }}",
        "en",
        None,
    ),
    (
        "Refund issued",
        "Hello {{ user_name }}, the duplicate charge on ticket {{ number }} has been refunded to "
        "your original payment method; it should arrive within 1-3 working days. "
        "— {{ agent_name }}",
        "en",
        "commercial",
    ),
]
