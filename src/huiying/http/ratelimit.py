"""The app's limiters: public intake and the portal per IP and per user id, logins per account
and per IP. Built once per app from its settings."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from huiying.config import Settings
from huiying.kit.ratelimit import Limiter


@dataclass
class PublicLimits:
    limiter: Limiter

    def check(self, *, ip: str | None, user_id: str | None) -> None:
        message = "too many requests; please wait a moment and try again (请求过于频繁，请稍后再试)"
        self.limiter.hit("ip", ip, message=message)
        self.limiter.hit("user", user_id, message=message)


@dataclass
class LoginLimits:
    limiter: Limiter

    def check(self, *, ip: str | None, email: str) -> None:
        message = "too many login attempts; wait a minute (登录尝试过多，请稍后再试)"
        self.limiter.hit("ip", ip, message=message)
        self.limiter.hit("account", email.strip().lower(), message=message)


@dataclass
class Limits:
    intake: PublicLimits
    portal: PublicLimits
    login: LoginLimits

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        storage = settings.rate_limit_storage
        return cls(
            intake=PublicLimits(Limiter(settings.rate_limit_intake, namespace="intake", storage_uri=storage)),
            portal=PublicLimits(Limiter(settings.rate_limit_portal, namespace="portal", storage_uri=storage)),
            login=LoginLimits(Limiter(settings.rate_limit_login, namespace="login", storage_uri=storage)),
        )


def limits_of(request: Request) -> Limits:
    limits: Limits = request.app.state.limits
    return limits


def intake_limits(request: Request) -> PublicLimits:
    return limits_of(request).intake
