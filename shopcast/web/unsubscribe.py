"""The unsubscribe link of reminders and follow-ups: `GET /unsubscribe?token=…` shows whose it is and a
button; `POST` (that button, or a mail program's one-click unsubscribe, RFC 8058) unsubscribes. The
token is the whole authority (no sign-in, no cookie): signed for one contact of one brand."""

from __future__ import annotations

from aiohttp import web

from shopcast.core.errors import NotFound, Unauthorized
from shopcast.reminders import contacts
from shopcast.web import language, pages
from shopcast.web.context import RESOURCES

PATH = "/unsubscribe"


async def _answer(request: web.Request, *, unsubscribe: bool) -> web.Response:
    resources = request.app[RESOURCES]
    token = request.query.get("token", "")
    try:
        async with resources.database.transaction() as session:
            if unsubscribe:
                found = await contacts.unsubscribe(
                    session, token=token, signer=resources.signer, now=resources.clock.now()
                )
            else:
                found = await contacts.look_up(session, token=token, signer=resources.signer)
    except (Unauthorized, NotFound):
        lang = language.chosen(request) or language.DEFAULT
        return _page(lang, status=400, state="invalid")
    lang = language.chosen(request) or found.language
    state = "done" if found.unsubscribed else "ask"
    return _page(lang, state=state, email=found.email, brand=found.brand_name)


def _page(lang: str, *, status: int = 200, **context: str) -> web.Response:
    response = web.Response(
        text=pages.render_page("unsubscribe.html", lang, **context),
        status=status,
        content_type="text/html",
        charset="utf-8",
    )
    response.headers["Content-Language"] = lang
    response.headers["Referrer-Policy"] = "no-referrer"  # the address holds the token
    return response


async def confirm_page(request: web.Request) -> web.Response:
    return await _answer(request, unsubscribe=False)


async def unsubscribe(request: web.Request) -> web.Response:
    return await _answer(request, unsubscribe=True)


def install(app: web.Application) -> None:
    app.router.add_get(PATH, confirm_page, name="unsubscribe")
    app.router.add_post(PATH, unsubscribe, name="unsubscribe_now")
