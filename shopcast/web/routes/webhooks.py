"""The brand's webhook endpoints over HTTP (managers): add, change, delete, rotate the secret, send a test
event; each endpoint's deliveries with their attempts, one replayed on request."""

from __future__ import annotations

import uuid
from datetime import timedelta

from shopcast.web.api import Api, Call
from shopcast.webhooks import service as webhooks
from shopcast.webhooks.schemas import (
    DeliveriesQuery,
    DeliveryOut,
    DeliveryView,
    EndpointIn,
    EndpointOut,
    EndpointUpdate,
    EndpointWithSecret,
)

api = Api()


@api.route(
    "GET",
    "/api/v1/brands/{brand_slug}/webhooks",
    summary="The brand's webhook endpoints, without their secrets (managers)",
    tag="webhooks",
    response=list[EndpointOut],
    access="signed-in",
)
async def list_endpoints(call: Call, brand_slug: str) -> list[EndpointOut]:
    return await webhooks.list_endpoints(call.session, actor=call.actor, brand_slug=brand_slug)


@api.route(
    "POST",
    "/api/v1/brands/{brand_slug}/webhooks",
    summary="Add a webhook endpoint; its secret is in this answer only (managers)",
    tag="webhooks",
    response=EndpointWithSecret,
    status=201,
    access="signed-in",
    errors=(409,),
)
async def create_endpoint(call: Call, brand_slug: str, body: EndpointIn) -> EndpointWithSecret:
    return await webhooks.create_endpoint(
        call.session,
        actor=call.actor,
        brand_slug=brand_slug,
        data=body,
        rules=call.resources.webhook_rules,
        now=call.now(),
    )


@api.route(
    "GET",
    "/api/v1/webhooks/{endpoint_id}",
    summary="One webhook endpoint, without its secret (managers of its brand)",
    tag="webhooks",
    response=EndpointOut,
    access="signed-in",
)
async def get_endpoint(call: Call, endpoint_id: uuid.UUID) -> EndpointOut:
    return await webhooks.get_endpoint(call.session, actor=call.actor, endpoint_id=endpoint_id)


@api.route(
    "PATCH",
    "/api/v1/webhooks/{endpoint_id}",
    summary="Change a webhook endpoint's address, description, events, or turn it on or off (managers)",
    tag="webhooks",
    response=EndpointOut,
    access="signed-in",
)
async def update_endpoint(call: Call, endpoint_id: uuid.UUID, body: EndpointUpdate) -> EndpointOut:
    return await webhooks.update_endpoint(
        call.session,
        actor=call.actor,
        endpoint_id=endpoint_id,
        data=body,
        rules=call.resources.webhook_rules,
        now=call.now(),
    )


@api.route(
    "DELETE",
    "/api/v1/webhooks/{endpoint_id}",
    summary="Delete a webhook endpoint and its deliveries (managers)",
    tag="webhooks",
    status=204,
    access="signed-in",
)
async def delete_endpoint(call: Call, endpoint_id: uuid.UUID) -> None:
    await webhooks.delete_endpoint(call.session, actor=call.actor, endpoint_id=endpoint_id)


@api.route(
    "POST",
    "/api/v1/webhooks/{endpoint_id}/secret",
    summary="Rotate the endpoint's secret: the new one is in this answer only; the old one signs too for a while",
    tag="webhooks",
    response=EndpointWithSecret,
    access="signed-in",
)
async def rotate_secret(call: Call, endpoint_id: uuid.UUID) -> EndpointWithSecret:
    grace = timedelta(hours=call.resources.settings.webhooks_secret_grace_hours)
    return await webhooks.rotate_secret(
        call.session, actor=call.actor, endpoint_id=endpoint_id, now=call.now(), grace=grace
    )


@api.route(
    "POST",
    "/api/v1/webhooks/{endpoint_id}/test",
    summary="Send the endpoint a `webhook.test` delivery (managers)",
    tag="webhooks",
    response=DeliveryOut,
    status=201,
    access="signed-in",
    errors=(409,),
)
async def send_test(call: Call, endpoint_id: uuid.UUID) -> DeliveryOut:
    return await webhooks.send_test(call.session, actor=call.actor, endpoint_id=endpoint_id, now=call.now())


@api.route(
    "GET",
    "/api/v1/webhooks/{endpoint_id}/deliveries",
    summary="The endpoint's deliveries, newest first, each with every attempt (managers)",
    tag="webhooks",
    response=list[DeliveryOut],
    access="signed-in",
)
async def list_deliveries(call: Call, endpoint_id: uuid.UUID, query: DeliveriesQuery) -> list[DeliveryOut]:
    return await webhooks.list_deliveries(call.session, actor=call.actor, endpoint_id=endpoint_id, query=query)


@api.route(
    "GET",
    "/api/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}",
    summary="One delivery: the body sent and every attempt (managers)",
    tag="webhooks",
    response=DeliveryView,
    access="signed-in",
)
async def get_delivery(call: Call, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> DeliveryView:
    return await webhooks.get_delivery(call.session, actor=call.actor, endpoint_id=endpoint_id, delivery_id=delivery_id)


@api.route(
    "POST",
    "/api/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay",
    summary="Send a delivery again, same webhook-id, its retries counted afresh (managers)",
    tag="webhooks",
    response=DeliveryOut,
    status=202,
    access="signed-in",
    errors=(409,),
)
async def replay_delivery(call: Call, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> DeliveryOut:
    return await webhooks.replay_delivery(
        call.session, actor=call.actor, endpoint_id=endpoint_id, delivery_id=delivery_id, now=call.now()
    )
