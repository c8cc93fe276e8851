"""Staff alerts: SLA warnings, breaches, escalations and system warnings reach staff where they work
(email, and the WeCom / DingTalk / Feishu group robots Chinese teams use)."""
