"""Feedback as users of a dating, live-streaming and shopping app write it (zh-CN and English).

Written for the demo; any resemblance to real users is accidental. Phone numbers and emails
are made up and follow the formats the masking must catch.
"""

from __future__ import annotations

from typing import NamedTuple


class Sample(NamedTuple):
    category: str
    subcategory: str
    priority: str
    title: str
    description: str


SAMPLES: list[Sample] = [
    Sample(
        "technical",
        "crash",
        "high",
        "打开直播间就闪退",
        "更新到最新版本以后，每次点进直播间App就直接闪退，重启手机也没用。机型是华为Mate 60，已经卸载重装过两次了。",
    ),
    Sample(
        "technical",
        "crash",
        "high",
        "发私信时App崩溃",
        "给对方发图片私信的时候App卡住然后退出，聊天记录也没了，试了好几次都一样。",
    ),
    Sample(
        "technical",
        "stream-lag",
        "medium",
        "看直播一直卡顿转圈",
        "晚上八点到十点看直播一直卡，画面转圈，声音和画面不同步。换了WiFi和4G都一样，其他App看视频正常。",
    ),
    Sample(
        "technical",
        "stream-lag",
        "high",
        "开播推流经常断",
        "我是主播，最近一周开播推流经常断开，观众说画面卡住，直播间人气掉得很厉害，麻烦尽快处理。",
    ),
    Sample(
        "technical",
        "login",
        "urgent",
        "账号登录不上，提示异常",
        "今天早上开始登录一直提示“账号异常，请稍后再试”，验证码也收不到，我的会员还有二十天，着急用。",
    ),
    Sample(
        "technical",
        "login",
        "high",
        "换手机后无法登录",
        "换了新手机以后用原来的手机号登录，提示设备未授权，原来的手机已经卖掉了，怎么办？",
    ),
    Sample(
        "technical",
        "payment-failure",
        "urgent",
        "支付失败但钱被扣了",
        "充值会员的时候提示支付失败，但是微信已经扣款68元，会员也没有开通，订单号在截图里，请尽快退款或者开通。",
    ),
    Sample(
        "technical",
        "payment-failure",
        "urgent",
        "同一笔订单扣了两次钱",
        "购买钻石时网络卡了一下，结果支付宝扣了两次198元，只到账一次，请核实并退还多扣的钱。",
    ),
    Sample(
        "technical",
        "performance",
        "low",
        "App耗电太快",
        "最近版本耗电特别快，后台挂着一个小时掉了20%的电，手机还发烫。",
    ),
    Sample(
        "technical",
        "bug",
        "medium",
        "消息提醒不显示",
        "别人给我发消息，手机没有任何通知，打开App才看到，通知权限已经打开了。",
    ),
    Sample(
        "technical",
        "bug",
        "medium",
        "照片上传一直失败",
        "上传个人资料照片一直显示上传失败，换了好几张图片都不行，图片不到2MB。",
    ),
    Sample(
        "technical",
        "account-security",
        "urgent",
        "账号被盗，有人用我的账号发广告",
        "我的账号好像被别人盗了，密码被改了，朋友说我一直在给他们发广告链接，请马上冻结账号！我的手机号是13912345678。",
    ),
    Sample(
        "technical",
        "account-security",
        "urgent",
        "收到陌生设备登录提醒",
        "凌晨三点收到提醒说我的账号在陌生设备登录，地点是外省，我当时在睡觉，担心账号被盗。",
    ),
    Sample(
        "content",
        "violation-report",
        "high",
        "举报直播间涉黄内容",
        "某直播间主播穿着暴露，言语低俗，还在引导观众私下加联系方式，房间号在链接里，请平台处理。",
    ),
    Sample(
        "content",
        "fake-profile",
        "medium",
        "举报虚假资料骗子",
        "这个用户的照片是网上的明星照片，聊了几天就说家里出事要借钱，明显是骗子，请核实封号。",
    ),
    Sample(
        "content",
        "fake-profile",
        "medium",
        "对方资料年龄和学历造假",
        "见面后发现对方实际年龄比资料上大了十岁，学历也是假的，平台的实名认证是怎么审核的？",
    ),
    Sample(
        "content",
        "harassment",
        "high",
        "被人持续骚扰辱骂",
        "有个用户被我拉黑以后换了好几个小号继续给我发骚扰信息，内容很恶心，我已经截图了。",
    ),
    Sample(
        "content",
        "host-behavior",
        "medium",
        "主播诱导刷礼物",
        "主播说刷够一万钻石就加微信线下见面，刷完以后就把我拉黑了，这属于诱导消费吧？",
    ),
    Sample(
        "content",
        "privacy-leak",
        "urgent",
        "我的照片和电话被别人公开了",
        "有人把我的照片、电话13700001111和住址发在了动态里，评论里很多人在议论，请立刻删除并处理这个人。",
    ),
    Sample(
        "content",
        "illegal-content",
        "urgent",
        "有人在群里卖违禁品",
        "在兴趣群里看到有人公开发布出售违禁药品的信息，还留了联系方式，请尽快处理并报警。",
    ),
    Sample(
        "commercial",
        "product-quality",
        "medium",
        "买的手机壳质量很差",
        "在商城买的手机壳收到就有裂痕，边缘也不贴合，和商品详情页描述完全不一样。",
    ),
    Sample(
        "commercial",
        "delivery",
        "medium",
        "快递一周了还没到",
        "下单一周了物流信息一直停在“已揽收”，联系商家也不回复，订单号在链接里。",
    ),
    Sample(
        "commercial",
        "refund",
        "high",
        "申请退款三天没有处理",
        "退货已经寄回并且商家签收了，退款申请三天了还显示处理中，钱什么时候能退回来？",
    ),
    Sample(
        "commercial",
        "membership",
        "medium",
        "会员权益没有生效",
        "开通了年度VIP，但是查看访客、超级喜欢这些权益都用不了，页面还提示我开通会员。",
    ),
    Sample(
        "commercial",
        "recharge",
        "high",
        "充值的金币没到账",
        "昨天晚上充值了300金币，钱已经付了，金币余额一直没变，充值记录里也查不到。",
    ),
    Sample(
        "commercial",
        "matchmaker-service",
        "medium",
        "投诉红娘服务敷衍",
        "花了5999买的红娘一对一服务，一个月只推荐了两个人，而且条件完全不符合我的要求，红娘也不回消息。",
    ),
    Sample(
        "commercial",
        "matchmaker-service",
        "low",
        "想换一个红娘老师",
        "现在的红娘老师沟通不太顺畅，能不能帮我换一位？",
    ),
    Sample(
        "suggestion",
        "feature-request",
        "low",
        "希望增加夜间模式",
        "晚上用App屏幕太亮了，希望能增加深色模式，保护眼睛。",
    ),
    Sample(
        "suggestion",
        "feature-request",
        "low",
        "建议直播间增加回放功能",
        "喜欢的主播下播了就看不到了，建议增加直播回放或者精彩片段。",
    ),
    Sample(
        "suggestion",
        "feature-request",
        "low",
        "希望能按兴趣筛选推荐",
        "推荐的人和我的兴趣差别太大，希望可以按照兴趣爱好、城市和年龄更精细地筛选。",
    ),
    Sample(
        "suggestion",
        "question",
        "low",
        "怎么修改绑定的手机号",
        "我换了手机号码，想把账号绑定的手机号改成新的，在设置里没找到入口。",
    ),
    Sample(
        "suggestion",
        "question",
        "low",
        "会员可以退吗",
        "不小心开通了自动续费的会员，这个月的钱能退吗？以后怎么关闭自动续费？",
    ),
    Sample(
        "suggestion",
        "policy-question",
        "low",
        "实名认证信息会泄露吗",
        "平台要求上传身份证做实名认证，想问一下这些信息怎么保存，会不会泄露？",
    ),
    Sample(
        "other",
        "",
        "low",
        "客服电话一直打不通",
        "打了好几次客服电话都是忙线，在线客服也要排队很久，希望多安排一些人手。",
    ),
    Sample(
        "other",
        "",
        "low",
        "表扬一下客服小王",
        "上次退款的问题客服小王处理得很快很耐心，给你们点个赞！",
    ),
    Sample(
        "technical",
        "crash",
        "high",
        "App crashes when I open my matches",
        "Since the update to 5.2.0 the app closes every time I tap on Matches. iPhone 13, iOS 17.4. Reinstalling did not help.",
    ),
    Sample(
        "technical",
        "login",
        "urgent",
        "Can't log in, verification code never arrives",
        "I have been trying to log in for two hours, the SMS code never comes. My number is +86 138 0013 8000. Please help, I have a date tonight.",
    ),
    Sample(
        "technical",
        "payment-failure",
        "urgent",
        "Charged twice for the same subscription",
        "My card was charged twice for the monthly premium plan ($14.99 each). Please refund the duplicate charge.",
    ),
    Sample(
        "technical",
        "stream-lag",
        "medium",
        "Live stream keeps buffering",
        "Every live stream buffers every few seconds even on a fast fibre connection. Other video apps work fine.",
    ),
    Sample(
        "content",
        "harassment",
        "high",
        "Someone keeps sending me abusive messages",
        "A user keeps creating new accounts to message me after I block him. The messages are threatening. Screenshots attached.",
    ),
    Sample(
        "content",
        "fake-profile",
        "medium",
        "Fake profile using stolen photos",
        "This profile uses photos of a famous model and asked me for gift cards after two days of chatting.",
    ),
    Sample(
        "commercial",
        "refund",
        "high",
        "Refund not received after 10 days",
        "I returned the item on the 3rd and the seller confirmed receipt, but I still have not received my refund.",
    ),
    Sample(
        "commercial",
        "membership",
        "medium",
        "Premium features not unlocked",
        "I paid for premium but I still cannot see who liked me. Restarting the app did not help.",
    ),
    Sample(
        "suggestion",
        "feature-request",
        "low",
        "Please add a dark mode",
        "Would love a dark theme for using the app at night.",
    ),
    Sample(
        "suggestion",
        "question",
        "low",
        "How do I delete my account?",
        "I met someone and would like to delete my account and all my data. Where can I do that?",
    ),
    Sample(
        "other",
        "",
        "low",
        "Great app, thank you",
        "Just wanted to say I met my partner here. Thanks to the team!",
    ),
]

CITIES = [
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "西安",
    "南京",
    "重庆",
    "长沙",
    "苏州",
]
DEVICES = [
    ("iOS 17.4", "iPhone 13"),
    ("iOS 18.1", "iPhone 15 Pro"),
    ("Android 14", "Huawei Mate 60"),
    ("Android 13", "Xiaomi 14"),
    ("Android 14", "OPPO Find X7"),
    ("Android 12", "vivo X90"),
    ("HarmonyOS 4.2", "Huawei P60"),
]
APP_VERSIONS = ["5.1.3", "5.2.0", "5.2.1", "5.3.0"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "超", "霞"]

# Replies by category, as agents write them.
REPLIES_ZH = {
    "technical": [
        "您好，您反馈的问题我们已经收到，正在请技术同事排查，预计24小时内给您答复。",
        "您好，经核实问题已经处理，请您更新到最新版本后再试一下，如仍有问题请随时联系我们。",
    ],
    "content": ["您好，该账号已被封禁处理，感谢您的举报，我们会继续加强资料审核。"],
    "commercial": ["您好，多扣的款项已原路退回，预计1-3个工作日到账，给您带来不便非常抱歉。"],
    "suggestion": ["您好，感谢您的建议，我们已经提交给产品团队评估，有进展会第一时间通知您。"],
    "other": ["您好，感谢您的反馈，我们会持续改进服务。"],
}
REPLIES_EN = {
    "technical": [
        "Hello, thanks for reporting this. Our engineers are looking into it and we will update you within 24 hours."
    ],
    "content": ["Hello, the account you reported has been suspended. Thank you for helping keep the community safe."],
    "commercial": [
        "Hi, the duplicate charge has been refunded to your original payment method; it should arrive in 1-3 working days."
    ],
    "suggestion": ["Thanks for the idea! We have passed it to the product team and will let you know."],
    "other": ["Thank you for your kind words!"],
}
NOTES = [
    "已同步给客户端组，复现中。",
    "用户情绪较激动，注意安抚。",
    "与财务确认过，退款已发起。",
    "Checked logs: the crash is in the 5.2.0 image cache.",
]
