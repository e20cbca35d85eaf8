"""The brand's emails over HTTP: the list, one email with its headers and parts, and its HTML part on
its own for a sandboxed frame."""

from __future__ import annotations

import uuid

from shopcast.emails import service as emails
from shopcast.emails.folder import mailbox
from shopcast.emails.schemas import EmailHtmlQuery, EmailOut, EmailsQuery, EmailView
from shopcast.web.api import Api, Call, Raw

api = Api()

# The HTML part is shown as sent, in a frame of the manager page: its styles apply, nothing of it
# runs (no script, no form, no plug-in) and it reaches nothing but its pictures.
_HTML_PART_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "sandbox; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "private, no-store",
}


@api.route(
    "GET",
    "/api/v1/brands/{brand_slug}/emails",
    summary="The brand's emails to buyers, newest first, each with where it stands (managers)",
    tag="emails",
    response=list[EmailOut],
    access="signed-in",
)
async def list_emails(call: Call, brand_slug: str, query: EmailsQuery) -> list[EmailOut]:
    return await emails.list_emails(call.session, actor=call.actor, brand_slug=brand_slug, query=query)


@api.route(
    "GET",
    "/api/v1/emails/{email_id}",
    summary="One email as sent: headers, text and HTML parts (managers of its brand)",
    tag="emails",
    response=EmailView,
    access="signed-in",
)
async def read_email(call: Call, email_id: uuid.UUID) -> EmailView:
    settings = call.resources.settings
    view = await emails.read_email(
        call.session,
        actor=call.actor,
        email_id=email_id,
        mailbox=mailbox(settings.data_dir),
        mail_from=settings.mail_from,
    )
    token = emails.html_link(call.resources.signer, email_id)
    return view.model_copy(update={"html_url": f"/api/v1/emails/{email_id}/html?token={token}"})


@api.route(
    "GET",
    "/api/v1/emails/{email_id}/html",
    summary="An email's HTML part alone, for a sandboxed frame (the signed link of `html_url`)",
    tag="emails",
    produces="text/html",
    errors=(401,),
)
async def email_html(call: Call, email_id: uuid.UUID, query: EmailHtmlQuery) -> Raw:
    settings = call.resources.settings
    html = await emails.email_html(
        call.session,
        email_id=email_id,
        token=query.token,
        signer=call.resources.signer,
        mailbox=mailbox(settings.data_dir),
        mail_from=settings.mail_from,
    )
    return Raw(html.encode(), "text/html; charset=utf-8", dict(_HTML_PART_HEADERS))
