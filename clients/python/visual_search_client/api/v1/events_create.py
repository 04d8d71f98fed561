from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.events_input_request import EventsInputRequest
from ...models.events_output import EventsOutput
from ...types import Response


def _get_kwargs(
    *,
    body: EventsInputRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/events/",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | EventsOutput | None:
    if response.status_code == 202:
        response_202 = EventsOutput.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 405:
        response_405 = Error.from_dict(response.json())

        return response_405

    if response.status_code == 406:
        response_406 = Error.from_dict(response.json())

        return response_406

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Error.from_dict(response.json())

        return response_415

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | EventsOutput]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: EventsInputRequest,
) -> Response[Error | EventsOutput]:
    """Up to 100 events a request. The mobile flow: keep a random `visitor_id`; search (POST
    /api/v1/search/ with the `X-Visitor-Id` header) and keep the response's `search_id`; when the
    shopper opens a result, queue a `click` with its `position`; on add to cart an `add_to_cart`, on
    checkout a `purchase` with `quantity` and `price`; send the queue in batches, each event with its
    own `id` (retrying a batch is safe). Do not send events when the shopper opted out of tracking.

    Args:
        body (EventsInputRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | EventsOutput]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: EventsInputRequest,
) -> Error | EventsOutput | None:
    """Up to 100 events a request. The mobile flow: keep a random `visitor_id`; search (POST
    /api/v1/search/ with the `X-Visitor-Id` header) and keep the response's `search_id`; when the
    shopper opens a result, queue a `click` with its `position`; on add to cart an `add_to_cart`, on
    checkout a `purchase` with `quantity` and `price`; send the queue in batches, each event with its
    own `id` (retrying a batch is safe). Do not send events when the shopper opted out of tracking.

    Args:
        body (EventsInputRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | EventsOutput
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: EventsInputRequest,
) -> Response[Error | EventsOutput]:
    """Up to 100 events a request. The mobile flow: keep a random `visitor_id`; search (POST
    /api/v1/search/ with the `X-Visitor-Id` header) and keep the response's `search_id`; when the
    shopper opens a result, queue a `click` with its `position`; on add to cart an `add_to_cart`, on
    checkout a `purchase` with `quantity` and `price`; send the queue in batches, each event with its
    own `id` (retrying a batch is safe). Do not send events when the shopper opted out of tracking.

    Args:
        body (EventsInputRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | EventsOutput]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: EventsInputRequest,
) -> Error | EventsOutput | None:
    """Up to 100 events a request. The mobile flow: keep a random `visitor_id`; search (POST
    /api/v1/search/ with the `X-Visitor-Id` header) and keep the response's `search_id`; when the
    shopper opens a result, queue a `click` with its `position`; on add to cart an `add_to_cart`, on
    checkout a `purchase` with `quantity` and `price`; send the queue in batches, each event with its
    own `id` (retrying a batch is safe). Do not send events when the shopper opted out of tracking.

    Args:
        body (EventsInputRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | EventsOutput
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
