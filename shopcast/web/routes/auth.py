from __future__ import annotations

from shopcast.accounts import service as accounts
from shopcast.accounts.schemas import BrandOut, BrandUpdate, GuestRequest, LoginRequest, Me, MemberOut, TokenOut
from shopcast.web.api import Api, Call

api = Api()


@api.route(
    "POST",
    "/api/v1/auth/login",
    summary="Sign in with email and password",
    tag="auth",
    response=TokenOut,
    errors=(401, 429),
)
async def log_in(call: Call, body: LoginRequest) -> TokenOut:
    settings = call.resources.settings
    return await accounts.log_in(
        call.session,
        email=body.email,
        password=body.password,
        signer=call.resources.signer,
        limiter=call.resources.limiter,
        max_attempts=settings.login_max_attempts,
        max_attempts_per_account=settings.login_max_attempts_per_account,
        window_seconds=settings.login_window_seconds,
        client=call.client,
    )


@api.route(
    "POST",
    "/api/v1/auth/guest",
    summary="Get a guest viewer token, with a nickname or without one yet (send the guest's token to name it)",
    tag="auth",
    response=TokenOut,
    status=201,
    errors=(429,),
)
async def join_as_guest(call: Call, body: GuestRequest) -> TokenOut:
    settings = call.resources.settings
    return await accounts.join_as_guest(
        nickname=body.nickname,
        actor=call.actor,
        signer=call.resources.signer,
        limiter=call.resources.limiter,
        max_per_window=settings.guest_max_per_window,
        window_seconds=settings.login_window_seconds,
        client=call.client,
    )


@api.route(
    "GET",
    "/api/v1/me",
    summary="Who the token belongs to, with their brands and roles",
    tag="auth",
    response=Me,
    access="signed-in",
)
async def who_am_i(call: Call) -> Me:
    return await accounts.describe(call.session, actor=call.actor)


@api.route(
    "GET",
    "/api/v1/brands/{brand_slug}/members",
    summary="The brand's staff and their roles",
    tag="brands",
    response=list[MemberOut],
    access="signed-in",
)
async def list_members(call: Call, brand_slug: str) -> list[MemberOut]:
    return await accounts.list_members(call.session, actor=call.actor, brand_slug=brand_slug)


@api.route(
    "PATCH",
    "/api/v1/brands/{brand_slug}",
    summary="Rename the brand or change its pages' default language (managers)",
    tag="brands",
    response=BrandOut,
    access="signed-in",
)
async def update_brand(call: Call, brand_slug: str, body: BrandUpdate) -> BrandOut:
    return await accounts.update_brand(call.session, actor=call.actor, brand_slug=brand_slug, data=body)
