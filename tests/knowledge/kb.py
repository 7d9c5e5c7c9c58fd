"""A tiny bilingual knowledge base written for these tests."""

from __future__ import annotations

from knowledge.config import IndexConfig
from knowledge.types import FaqEntry

# USE only and two folds: the real pipeline, small enough for unit tests.
FAST = IndexConfig(encoders=("use",), cv_folds=2)

ENTRIES = [
    FaqEntry(
        "refund-time",
        "zh",
        "退款多久到账？",
        (
            "退款什么时候能到账",
            "钱多久退回来",
            "退款几天到账",
            "申请退款后多长时间到",
            "退款一直没到怎么回事",
        ),
        "退款审核通过后1-3个工作日原路退回。",
        ("退款",),
    ),
    FaqEntry(
        "invoice",
        "zh",
        "如何开发票？",
        (
            "怎么开发票",
            "可以开增值税专用发票吗",
            "发票在哪里申请",
            "我要开公司抬头的发票",
            "电子发票怎么下载",
        ),
        "在订单详情页点击申请发票。",
        ("发票",),
    ),
    FaqEntry(
        "password",
        "zh",
        "如何修改登录密码？",
        ("忘记密码怎么办", "密码怎么改", "怎么重置账号密码", "登录密码忘了", "想换个新密码"),
        "在我的-设置-账号安全中修改密码。",
        ("账号",),
    ),
    FaqEntry(
        "hours",
        "zh",
        "客服工作时间是几点？",
        ("客服几点上班", "人工客服什么时候在线", "晚上有客服吗", "周末客服上班吗", "客服几点下班"),
        "客服每天9:00-21:00在线。",
        ("客服",),
    ),
    FaqEntry(
        "card-lost",
        "en",
        "What should I do if I lost my card?",
        (
            "my card is lost",
            "I can't find my bank card",
            "someone stole my card",
            "how do I report a lost card",
            "block my missing card",
        ),
        "Freeze the card in the app and order a new one.",
        ("card",),
    ),
    FaqEntry(
        "transfer-fee",
        "en",
        "Is there a fee for transfers?",
        (
            "how much does a transfer cost",
            "do you charge for sending money",
            "transfer fees",
            "why was I charged for a transfer",
            "are bank transfers free",
        ),
        "Transfers within the country are free.",
        ("transfer",),
    ),
    FaqEntry(
        "change-address",
        "en",
        "How do I change my address?",
        (
            "update my home address",
            "I moved house",
            "change the address on my account",
            "new address",
            "edit my postal address",
        ),
        "Go to Profile > Address and save the new one.",
        ("account",),
    ),
    FaqEntry(
        "open-account",
        "en",
        "How do I open an account?",
        (
            "sign up for an account",
            "create a new account",
            "I want to join",
            "how to register",
            "what do I need to open an account",
        ),
        "Download the app and follow the sign-up steps.",
        ("account",),
    ),
]
