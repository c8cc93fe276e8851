"""UI strings in zh-CN (default) and English. One table, so a missing translation shows."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
COOKIE = "hy_lang"

# key: (zh-CN, English)
MESSAGES: dict[str, tuple[str, str]] = {
    "app.name": ("回应 · 用户反馈处理", "Huiying · user feedback"),
    "login.title": ("员工登录", "Staff login"),
    "login.email": ("邮箱", "Email"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("邮箱或密码错误", "Wrong email or password"),
    "login.locked": (
        "登录失败次数过多，账号已临时锁定，请稍后再试",
        "Too many failed logins: the account is locked for a while",
    ),
    "login.throttled": (
        "登录尝试过于频繁，请稍后再试",
        "Too many login attempts; please wait a minute",
    ),
    "login.csrf": ("页面已过期，请重新提交", "The page expired; please submit again"),
    "logout": ("退出登录", "Log out"),
    "lang.switch": ("English", "中文"),
    "error.csrf": (
        "请求校验失败（CSRF），请刷新页面后重试",
        "The request failed its CSRF check; reload the page and retry",
    ),
    "error.forbidden": ("您的角色无权访问此页面", "Your role may not open this page"),
    "error.not_found": ("页面不存在", "Page not found"),
}


def language_of(request: Request) -> str:
    """?lang= wins, then the cookie, then Chinese."""
    wanted = request.query_params.get("lang") or request.cookies.get(COOKIE) or DEFAULT
    return wanted if wanted in LANGUAGES else DEFAULT


def translator(language: str) -> Callable[..., str]:
    index = LANGUAGES.index(language)

    def translate(key: str, **values: object) -> str:
        text = MESSAGES[key][index] if key in MESSAGES else key
        return text.format(**values) if values else text

    return translate
