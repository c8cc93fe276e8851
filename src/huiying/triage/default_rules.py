"""The triage rules a fresh install ships with: zh-CN and English, every subcategory covered.

Admins edit these afterwards; `default_rule_dicts()` gives them as the JSON the rule editor and
the database store. How rules match and merge is described in `huiying.triage.rules`.

Weights: the urgent signals (account theft, double charge, failed payment, privacy leak, illegal
content) carry the highest weight so their category wins; specific issues (crash, refund, fake
profile, ...) sit in the middle; broad catch-alls (a bare "主播", "question", "suggestion",
"客服", praise) have negative weights so any specific rule overrides them.

Safety rules (self-harm, privacy leak, minors) set `override_model`: their decision wins over
the learned model however confident it is. Self-harm and minors set no category (they can be
about anything) but make the ticket urgent and ask for a person to look at it.
"""

from __future__ import annotations

from huiying.categories.defaults import DEFAULT_CATEGORIES
from huiying.triage.rules import JsonValue, Rule, Taxonomy, load_rules

DEFAULT_TAXONOMY: Taxonomy = {
    parent.slug: frozenset(child.slug for child in children) for parent, children in DEFAULT_CATEGORIES
}

# fmt: off
_RULES: list[dict[str, JsonValue]] = [
    # --- urgent signals --------------------------------------------------------------------------
    {
        "id": "urgent-self-harm",
        "name": "自伤/自杀风险 Self-harm risk",
        "description": "A person may be in danger: follow the safety playbook.",
        "any_of": [
            "自杀", "不想活", "活不下去", "轻生", "割腕", "跳楼", "结束生命", "结束自己的生命",
            "寻死", "遗书", "吃安眠药", "suicide", "suicidal", "kill myself", "killing myself",
            "end my life", "ending my life", "self-harm", "self harm", "hurt myself",
            "don't want to live", "do not want to live",
        ],
        "priority": "urgent",
        "tags": ["self-harm", "safety"],
        "needs_refinement": True,
        "override_model": True,
        "weight": 100,
    },
    {
        "id": "urgent-self-harm-wish-to-die",
        "name": "想死 Wish to die",
        "description": "Split off so that 想死你了 (I miss you) can veto it.",
        "any_of": ["想死", "want to die", "wanna die"],
        "none_of": ["想死你", "想死我了", "想死他了", "想死她了", "笑死", "die for"],
        "priority": "urgent",
        "tags": ["self-harm", "safety"],
        "needs_refinement": True,
        "override_model": True,
        "weight": 100,
    },
    {
        "id": "urgent-minor",
        "name": "未成年人 Minor involved",
        "any_of": [
            "未成年", "未满18", "未满十八", "小学生", "初中生", "中学生", "underage", "under age",
            "under 18", "under-18", "minors", "a minor",
        ],
        "none_of": [
            "minor bug", "minor issue", "minor problem", "minor glitch", "minor change",
            "minor update", "minor thing", "minor detail", "minor fix",
        ],
        "priority": "urgent",
        "tags": ["minor", "safety"],
        "needs_refinement": True,
        "override_model": True,
        "weight": 90,
    },
    {
        "id": "urgent-minor-spending",
        "name": "孩子充值/打赏 Child spent money",
        "any_of": [
            "孩子", "小孩", "儿子", "女儿", "我家娃", "my child", "my kid", "my son", "my daughter",
            "my children",
        ],
        "all_of": [
            "充值|打赏|刷礼物|刷了|花了|扣了|消费|买了|钻石|金币"
            "|top up*|topped up|spent|paid|charged|purchase*|bought|gift*|coins|diamonds",
        ],
        "priority": "urgent",
        "tags": ["minor", "safety"],
        "needs_refinement": True,
        "override_model": True,
        "weight": 90,
    },
    {
        "id": "urgent-privacy-leak",
        "name": "隐私泄露 Privacy leak",
        "any_of": [
            "隐私泄露", "隐私被泄露", "泄露了我的", "泄露我的", "泄漏了我的", "泄漏我的",
            "信息泄露", "信息被泄露", "信息被泄漏", "个人信息被", "人肉", "曝光我的信息",
            "曝光了我的", "公开了我的", "把我的照片", "我的照片和电话", "我的电话和住址", "住址被",
            "电话被公开", "私密照片", "私照", "doxx*", "doxed", "doxing", "leaked my",
            "my personal information was", "my personal info was", "posted my phone number",
            "posted my address", "shared my address", "shared my phone number", "privacy leak",
            "privacy breach", "data leak",
        ],
        "none_of": [
            "会不会泄露", "会泄露吗", "会不会被泄露", "是否会泄露", "会不会泄漏", "会泄漏吗",
            "will my data", "will my information", "is my data safe",
        ],
        "category": "content",
        "subcategory": "privacy-leak",
        "priority": "urgent",
        "tags": ["privacy", "safety"],
        "override_model": True,
        "weight": 80,
    },
    {
        "id": "urgent-account-theft",
        "name": "账号被盗 Account theft",
        "any_of": [
            "账号被盗", "帐号被盗", "号被盗", "盗号", "被盗号", "账号被别人", "被别人登录",
            "别人登录了我的", "陌生设备登录", "陌生设备上登录", "异地登录", "密码被改",
            "密码被修改", "账号被黑", "号被黑", "被黑了", "hacked", "account was stolen",
            "account stolen", "stolen account", "someone logged into my account",
            "someone logged in to my account", "someone else logged in", "unauthorized login",
            "unauthorised login", "account was compromised", "account has been compromised",
            "account compromised", "changed my password",
        ],
        "none_of": [
            "防止盗号", "防盗号", "如何防止", "怎么防止", "how to prevent", "how do i prevent",
            # a theft already dealt with, mentioned in passing
            "处理好了", "已经找回", "找回来了", "已经解决", "已解决", "上回被盗", "上次被盗",
            "之前被盗", "以前被盗", "was resolved", "got it back",
        ],
        "category": "technical",
        "subcategory": "account-security",
        "priority": "urgent",
        "tags": ["account-theft"],
        "weight": 70,
    },
    {
        "id": "urgent-double-charge",
        "name": "重复扣款 Charged twice",
        "any_of": [
            "扣了两次", "扣两次", "被扣两次", "扣了2次", "扣费两次", "扣款两次", "重复扣款",
            "重复扣费", "重复支付", "重复收费", "多扣了", "多扣钱", "多扣的", "付了两次",
            "charged twice", "charged two times", "charged me twice", "double charge*",
            "double-charge*", "duplicate charge*", "billed twice", "paid twice",
        ],
        "category": "technical",
        "subcategory": "payment-failure",
        "priority": "urgent",
        "tags": ["double-charge", "money"],
        "weight": 60,
    },
    {
        "id": "urgent-payment-failed",
        "name": "支付失败 Payment failed",
        "any_of": [
            "支付失败", "付款失败", "支付不成功", "付款不成功", "支付异常", "付款异常", "支付不了",
            "付不了款", "无法支付", "扣款失败", "payment failed", "payment failure",
            "payment fails", "payment didn't go through", "payment did not go through",
            "payment declined", "card declined", "card was declined", "transaction failed",
            "can't pay", "cannot pay", "unable to pay",
        ],
        "none_of": ["不是支付失败", "没有支付失败", "not a payment failure"],
        "category": "technical",
        "subcategory": "payment-failure",
        "priority": "urgent",
        "tags": ["money"],
        "weight": 55,
    },
    {
        # One user who cannot log in is high (SPEC §2: urgent is a core function down, i.e. for
        # many: the impact scope raises it); on the dev split 5 of 8 "urgent" calls were wrong.
        "id": "cannot-login",
        "name": "无法登录 Cannot log in",
        "any_of": [
            "登录不上", "登陆不上", "登不上", "无法登录", "无法登陆", "不能登录", "不能登陆",
            "登录不了", "登陆不了", "登录失败", "登陆失败", "登不进去", "进不去账号",
            "can't log in", "cannot log in", "can not log in", "can't login", "cannot login",
            "unable to log in", "unable to login", "can't sign in", "cannot sign in",
            "unable to sign in", "locked out", "login failed", "log in failed",
            "won't let me log in", "won't let me sign in", "can't log into", "cannot log into",
        ],
        "none_of": ["以前登不上", "之前登不上", "登不上的问题好了", "现在能登", "可以登录了"],
        "category": "technical",
        "subcategory": "login",
        "priority": "high",
        "weight": 45,
    },
    {
        "id": "illegal-content",
        "name": "违法内容 Illegal content",
        "any_of": [
            "违禁品", "违禁药", "毒品", "冰毒", "大麻", "摇头丸", "赌博", "赌场", "博彩", "网赌",
            "赌球", "卖枪", "枪支", "卖淫", "招嫖", "洗钱", "办假证", "假证件", "代开发票", "贩卖",
            "illegal drug*", "selling drugs", "sells drugs", "cocaine", "heroin", "meth",
            "gambling", "casino", "betting site", "guns for sale", "selling guns", "firearm*",
            "prostitution", "money laundering", "fake id*",
        ],
        "category": "content",
        "subcategory": "illegal-content",
        "priority": "urgent",
        "tags": ["illegal", "safety"],
        "weight": 50,
    },
    # --- technical -------------------------------------------------------------------------------
    {
        "id": "crash",
        "name": "闪退/崩溃 Crash",
        "any_of": [
            "闪退", "崩溃", "崩了", "自动退出", "直接退出", "打不开", "白屏", "黑屏", "强制关闭",
            "crash*", "keeps closing", "force close*", "closes itself", "closes by itself",
            "shuts down", "won't open", "will not open", "doesn't open", "black screen",
            "white screen",
        ],
        "none_of": ["没有闪退", "不闪退", "没闪退", "没有崩溃", "no longer crash*", "not crashing"],
        "category": "technical",
        "subcategory": "crash",
        "priority": "high",
        "weight": 30,
    },
    {
        "id": "stream-lag",
        "name": "直播卡顿 Stream stutter",
        "any_of": [
            "转圈", "缓冲", "推流", "掉帧", "花屏", "音画不同步", "声音和画面不同步", "画面卡",
            "直播卡", "直播间卡", "直播很卡", "直播一直卡", "开播卡", "buffering", "buffers",
            "stream lag*", "stream keeps freezing", "stream freez*", "stream stutter*",
            "live stream lag*", "dropped frames", "audio out of sync", "out of sync",
        ],
        "category": "technical",
        "subcategory": "stream-lag",
        "priority": "medium",
        "weight": 25,
    },
    {
        "id": "stream-lag-live",
        "name": "直播中卡 Lag during a live stream",
        "any_of": [
            "卡顿", "很卡", "好卡", "太卡", "一直卡", "卡住", "卡死", "延迟", "lag*", "stutter*",
            "freez*",
        ],
        "all_of": ["直播|开播|主播|推流|live|stream*|broadcast*"],
        "category": "technical",
        "subcategory": "stream-lag",
        "priority": "medium",
        "weight": 24,
    },
    {
        "id": "performance",
        "name": "卡顿/耗电 Slow or battery drain",
        "any_of": [
            "卡顿", "很卡", "好卡", "太卡", "卡死", "反应慢", "加载慢", "加载很慢", "运行慢",
            "耗电", "费电", "掉电", "发烫", "发热", "占内存", "内存占用", "占用内存", "laggy",
            "lags", "slow", "sluggish", "battery drain", "drains my battery", "drains the battery",
            "battery", "overheat*", "heats up", "takes forever to load", "uses too much memory",
        ],
        "category": "technical",
        "subcategory": "performance",
        "priority": "low",
        "weight": 15,
    },
    {
        "id": "login-code",
        "name": "收不到验证码 Verification code missing",
        "any_of": [
            "收不到验证码", "验证码收不到", "没收到验证码", "验证码一直收不到", "收不到短信",
            "验证码不对", "验证码错误", "找回密码", "忘记密码", "密码忘了",
            "verification code never", "didn't receive the code", "did not receive the code",
            "never received the code", "no verification code", "sms code", "otp",
            "forgot my password", "reset my password", "password reset",
        ],
        "category": "technical",
        "subcategory": "login",
        "priority": "high",
        "weight": 35,
    },
    {
        "id": "login",
        "name": "登录问题 Login problem",
        "any_of": [
            "登录", "登陆", "设备未授权", "log in", "login",
            "log into", "sign in", "signing in", "logging in",
        ],
        "category": "technical",
        "subcategory": "login",
        "weight": 8,
    },
    {
        "id": "account-security",
        "name": "账号安全 Account security",
        "any_of": [
            "账号安全", "帐号安全", "冻结账号", "冻结我的账号", "账号冻结", "账号被封", "我被封号",
            "被封了", "异常登录", "登录提醒", "二次验证", "两步验证", "account security",
            "freeze my account", "account frozen", "account was banned", "account banned",
            "suspicious login", "login alert", "two-factor", "2fa",
        ],
        "category": "technical",
        "subcategory": "account-security",
        "priority": "high",
        "weight": 20,
    },
    {
        "id": "bug",
        "name": "功能异常 Feature not working",
        "any_of": [
            "功能异常", "用不了", "不能用", "没反应", "没有反应", "点不动", "点了没反应", "报错",
            "出错", "上传失败", "上传不了", "发送失败", "发不出去", "加载失败", "加载不出来",
            "不显示", "显示不出来", "显示异常", "收不到消息", "没有通知", "收不到通知", "不提醒",
            "无法上传", "无法发送", "故障", "没有任何通知", "没通知", "没有提醒", "收不到提醒",
            "bug*", "glitch*", "doesn't work", "does not work", "not working", "isn't working",
            "stopped working", "error message", "error code", "fails to", "failed to upload",
            "can't upload", "cannot upload", "won't load", "not loading", "doesn't load",
            "no notification*", "notifications don't", "not showing", "won't send", "can't send",
        ],
        "category": "technical",
        "subcategory": "bug",
        "priority": "medium",
        "weight": 10,
    },
    # --- content ---------------------------------------------------------------------------------
    {
        "id": "violation-porn",
        "name": "涉黄/低俗 Sexual or vulgar content",
        "any_of": [
            "色情", "涉黄", "黄色视频", "黄色图片", "裸聊", "裸露", "露点", "穿着暴露", "低俗",
            "擦边", "性暗示", "约炮", "porn*", "nude*", "nudity", "sexual content",
            "explicit content", "explicit photos", "sexually explicit", "indecent",
        ],
        "category": "content",
        "subcategory": "violation-report",
        "priority": "high",
        "tags": ["sexual-content"],
        "weight": 40,
    },
    {
        "id": "violation-report",
        "name": "违规举报 Violation report",
        "any_of": [
            "举报", "违规", "不良信息", "引导私下", "私下加", "加微信", "拉人头", "发广告",
            "广告刷屏", "诱导", "report this", "report a user", "reporting this", "inappropriate",
            "spam*", "violat*", "offensive content", "against the rules",
        ],
        "category": "content",
        "subcategory": "violation-report",
        "priority": "medium",
        "needs_refinement": True,
        "weight": 5,
    },
    {
        "id": "fake-profile",
        "name": "虚假资料 Fake profile",
        "any_of": [
            "虚假资料", "假资料", "资料造假", "资料是假的", "照片是假的", "假照片", "盗用照片",
            "盗用别人的照片", "网图", "明星照片", "学历造假", "学历是假的", "年龄造假", "实际年龄",
            "假冒", "冒充", "杀猪盘", "婚托", "酒托", "借钱", "骗钱", "骗财", "fake profile*",
            "fake account*", "catfish*", "stolen photos", "photos of a", "pretending to be",
            "romance scam*", "asked me for money", "asked me to send money", "gift card*",
            "not a real person", "fake photos",
        ],
        "category": "content",
        "subcategory": "fake-profile",
        "priority": "medium",
        "weight": 30,
    },
    {
        "id": "harassment",
        "name": "骚扰/辱骂 Harassment",
        "any_of": [
            "骚扰", "辱骂", "骂人", "骂我", "威胁", "恐吓", "跟踪我", "纠缠", "性骚扰", "言语攻击",
            "人身攻击", "侮辱", "小号继续", "换号骚扰", "一直给我发", "harass*", "abusive",
            "abuse*", "threaten*", "stalk*", "insult*", "bully*", "keeps messaging me",
            "keeps sending me", "won't leave me alone", "sexual harassment",
        ],
        "category": "content",
        "subcategory": "harassment",
        "priority": "high",
        "weight": 35,
    },
    {
        "id": "host-behavior",
        "name": "主播违规 Host misconduct",
        "any_of": [
            "主播诱导", "诱导刷礼物", "诱导打赏", "诱导消费", "刷礼物", "刷够", "榜一", "主播骂",
            "主播态度", "主播承诺", "主播拉黑", "主播骗", "主播辱骂", "主播低俗", "host asked",
            "streamer asked", "the streamer", "the host promised", "streamer promised",
            "pressured me to send gifts", "send gifts",
        ],
        "category": "content",
        "subcategory": "host-behavior",
        "priority": "medium",
        "weight": 28,
    },
    {
        "id": "host-generic",
        "name": "主播相关 About a host",
        "any_of": ["主播", "直播间", "streamer", "live host", "broadcaster"],
        "category": "content",
        "subcategory": "host-behavior",
        "needs_refinement": True,
        "weight": -10,
    },
    # --- commercial ------------------------------------------------------------------------------
    {
        "id": "matchmaker-service",
        "name": "红娘服务 Matchmaker service",
        "any_of": [
            "红娘", "媒人", "牵线", "相亲服务", "一对一服务", "婚恋顾问", "情感顾问", "脱单服务",
            "matchmaker*", "matchmaking service", "dating coach",
        ],
        "category": "commercial",
        "subcategory": "matchmaker-service",
        "priority": "medium",
        "weight": 32,
    },
    {
        "id": "refund",
        "name": "退款 Refund",
        "any_of": [
            "退款", "退钱", "退货", "退回", "原路退回", "不给退", "能退吗", "可以退吗", "退费",
            "refund*", "money back", "return the item", "returned the item", "reimburse*",
        ],
        "category": "commercial",
        "subcategory": "refund",
        "priority": "high",
        "tags": ["money"],
        "weight": 22,
    },
    {
        "id": "recharge",
        "name": "充值/虚拟币 Top-up & coins",
        "any_of": [
            "充值", "充错", "金币", "钻石", "虚拟币", "余额", "没到账", "未到账", "不到账",
            "top up*", "top-up*", "topup", "topped up", "recharge*", "coins", "diamonds", "credits",
            "balance",
        ],
        "category": "commercial",
        "subcategory": "recharge",
        "priority": "high",
        "tags": ["money"],
        "weight": 20,
    },
    {
        "id": "membership",
        "name": "会员权益 Membership",
        "any_of": [
            "会员", "vip", "svip", "自动续费", "续费", "超级喜欢", "查看访客", "会员权益",
            "membership", "premium", "subscription*", "subscribe*", "auto-renew*", "auto renew*",
            "gold plan",
        ],
        "category": "commercial",
        "subcategory": "membership",
        "priority": "medium",
        "weight": 18,
    },
    {
        "id": "delivery",
        "name": "物流配送 Delivery",
        "any_of": [
            "快递", "物流", "发货", "配送", "送货", "包裹", "签收", "揽收", "派送", "运单", "到货",
            "没收到货", "收不到货", "delivery", "deliver*", "shipping", "shipment", "shipped",
            "parcel", "package", "courier", "tracking number", "hasn't arrived", "has not arrived",
            "never arrived", "not arrived",
        ],
        "category": "commercial",
        "subcategory": "delivery",
        "priority": "medium",
        "weight": 16,
    },
    {
        "id": "product-quality",
        "name": "商品质量 Product quality",
        "any_of": [
            "质量差", "质量太差", "质量不好", "质量问题", "假货", "次品", "瑕疵", "破损", "坏了",
            "裂痕", "裂了", "掉色", "起球", "描述不符", "描述不一样", "描述完全不一样", "货不对板",
            "色差", "做工差", "做工粗糙", "用了一次就", "poor quality", "bad quality",
            "low quality", "broken", "damaged", "defective", "not as described", "faulty",
            "cheaply made", "fell apart", "counterfeit",
        ],
        "category": "commercial",
        "subcategory": "product-quality",
        "priority": "medium",
        "weight": 14,
    },
    # --- suggestion & question -------------------------------------------------------------------
    {
        "id": "policy-question",
        "name": "规则咨询 Policy question",
        "any_of": [
            "隐私政策", "隐私条款", "用户协议", "服务条款", "社区规范", "平台规则", "规则是",
            "封号标准", "审核标准", "为什么封", "会不会泄露", "会泄露吗", "怎么保存",
            "privacy policy", "terms of service", "terms and conditions", "community guidelines",
            "what are the rules", "why was my account banned", "how is my data", "will my data",
            "is my data safe",
        ],
        "category": "suggestion",
        "subcategory": "policy-question",
        "priority": "low",
        "weight": -3,
    },
    {
        "id": "feature-request",
        "name": "功能建议 Feature request",
        "any_of": [
            "建议", "希望增加", "希望能", "希望可以", "希望有", "能不能加", "能否增加",
            "可不可以加", "增加一个", "加个", "新增", "要是有", "夜间模式", "深色模式", "暗黑模式",
            "please add", "would love", "feature request", "it would be nice", "would be great if",
            "suggest*", "wish there was", "wish there were", "can you add", "could you add",
            "dark mode", "dark theme",
        ],
        "category": "suggestion",
        "subcategory": "feature-request",
        "priority": "low",
        "weight": -5,
    },
    {
        "id": "question",
        "name": "使用咨询 How-to question",
        "any_of": [
            "怎么", "如何", "怎样", "在哪里", "在哪", "哪里可以", "是否可以", "请问", "可以吗",
            "how do i", "how to", "how can i", "where can i", "where do i", "is it possible",
            "can i", "what is the", "what does",
        ],
        "category": "suggestion",
        "subcategory": "question",
        "priority": "low",
        "weight": -10,
    },
    # --- other & sentiment -----------------------------------------------------------------------
    {
        "id": "customer-service",
        "name": "客服相关 About customer service",
        "any_of": [
            "客服", "人工服务", "打不通", "没人回复", "没人处理", "customer service",
            "customer support", "support team", "no one replied", "nobody replied", "no response",
        ],
        "category": "other",
        "priority": "low",
        "weight": -15,
    },
    {
        "id": "praise",
        "name": "表扬 Praise",
        "any_of": [
            "表扬", "点赞", "点个赞", "好评", "五星", "很满意", "非常满意", "太好用", "非常好用",
            "感谢你们", "谢谢你们", "辛苦了", "好棒", "很棒", "很贴心", "找到了另一半", "脱单了",
            "great app", "love this app", "love the app", "awesome app", "amazing app",
            "thank you so much", "thanks a lot", "well done", "excellent service", "five stars",
            "5 stars", "met my partner", "thanks to the team",
        ],
        "category": "other",
        "priority": "low",
        "sentiment": "positive",
        "weight": -20,
    },
    {
        "id": "sentiment-escalation",
        "name": "投诉升级风险 Threat to escalate",
        "description": "Complaints to regulators, lawyers or the press.",
        "any_of": [
            "投诉到底", "315", "3·15", "12315", "消协", "消费者协会", "工商局", "市场监管", "起诉",
            "律师函", "找律师", "法院", "媒体曝光", "曝光你们", "要曝光", "报警", "sue you",
            "lawsuit", "lawyer", "legal action", "consumer protection", "bbb",
            "better business bureau", "report you to", "going to the press", "call the police",
        ],
        "sentiment": "angry",
        "priority": "high",
        "tags": ["escalation-risk"],
        "weight": 0,
    },
    {
        # "refund me now!": a demand for money with no patience left is anger, whatever the
        # model learned from calmer complaints (issue 19).
        "id": "sentiment-demand",
        "name": "要求立刻退钱 Demand, now",
        "all_of": [
            "now|right now|immediately|asap|at once|马上|立刻|立即|赶紧|现在就|今天必须",
            "refund*|money back|退钱|退款|赔钱|赔偿|还钱|还我",
        ],
        "sentiment": "angry",
        "override_model": True,
        "weight": 0,
    },
    {
        "id": "sentiment-angry",
        "name": "愤怒 Angry",
        "any_of": [
            "气死", "太坑", "坑人", "坑钱", "垃圾平台", "垃圾软件", "垃圾app", "什么垃圾", "骗子",
            "骗人", "黑心", "无良", "退钱", "还钱", "滚蛋", "他妈的", "妈的", "我操", "草泥马",
            "傻逼", "去死", "愤怒", "忍无可忍", "太过分", "欺诈", "诈骗平台", "什么破", "破软件",
            "破平台", "再也不用", "scam", "scammers", "rip off", "ripoff", "rip-off", "worst",
            "furious", "pissed", "ridiculous", "unacceptable", "disgusting", "fraud", "wtf",
            "fuck*", "sick of", "fed up", "give me my money back", "!!!", "???",
        ],
        "sentiment": "angry",
        "weight": 0,
    },
    {
        "id": "sentiment-negative",
        "name": "负面 Negative",
        "any_of": [
            "失望", "很差", "太差", "差评", "不满意", "难用", "烦死", "很烦", "好烦", "烦人",
            "无语", "郁闷", "糟糕", "恶心", "后悔", "不好用", "着急", "急用", "难受", "生气",
            "不爽", "disappoint*", "terrible", "awful", "poor", "annoying", "frustrat*", "useless",
            "not happy", "unhappy", "horrible", "bad", "upset", "worried", "unfortunately",
        ],
        "sentiment": "negative",
        "weight": 0,
    },
]
# fmt: on


def default_rule_dicts() -> list[dict[str, JsonValue]]:
    """The default rules as the JSON the editor and the database keep (fresh copies)."""
    return [rule.to_dict() for rule in DEFAULT_RULES]


def default_rules() -> list[Rule]:
    """The default rules, validated against the default taxonomy."""
    return list(DEFAULT_RULES)


DEFAULT_RULES: tuple[Rule, ...] = tuple(load_rules(_RULES, taxonomy=DEFAULT_TAXONOMY))
