"""The portal visitor's proofs of who they are, kept in a signed cookie (portal/proof.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from huiying.http.deps import AppSettings
from huiying.kit.clock import utcnow
from huiying.portal import proof
from huiying.portal.user_token import UserClaim, verify
from huiying.web import i18n


def proofs_of(request: Request, settings: AppSettings) -> proof.Proofs:
    return proof.loads(settings.resolved_secret_key, request.cookies.get(proof.COOKIE))


def keep_proofs(response: Response, settings: AppSettings, proofs: proof.Proofs) -> None:
    response.set_cookie(
        proof.COOKIE,
        proof.dumps(settings.resolved_secret_key, proofs),
        max_age=proof.MAX_AGE_SECONDS,
        path="/portal",
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
    )


def user_claim(settings: AppSettings, user_id: str | None, token: str | None) -> UserClaim | None:
    """The platform's claim about `user_id` if `token` is a valid user token for it."""
    return verify(settings.platform_user_secret, user_id, token, now=utcnow().timestamp())


def take_user_token(request: Request, settings: AppSettings) -> Response | None:
    """A portal URL carrying `user_id` and `user_token`: remember a valid proof and send the
    visitor to the same page without them (so the token does not stay in the address bar)."""
    params = request.query_params
    if "user_token" not in params:
        return None
    kept = {k: v for k, v in params.items() if k not in ("user_id", "user_token", "error")}
    claim = user_claim(settings, params.get("user_id"), params.get("user_token"))
    if claim is None:
        kept["error"] = i18n.translator(i18n.language_of(request))("portal.token_invalid")
    response = RedirectResponse(request.url.path + (f"?{urlencode(kept)}" if kept else ""), status_code=303)
    if claim is not None:
        keep_proofs(response, settings, proofs_of(request, settings).with_user(claim.user_id))
    return response
