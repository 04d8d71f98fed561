from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.draft_error import DraftError
from ...models.draft_output import DraftOutput
from ...models.error import Error
from ...types import Response


def _get_kwargs(
    product_id: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/merchant/products/{product_id}/draft/".format(
            product_id=quote(str(product_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DraftError | DraftOutput | Error | None:
    if response.status_code == 200:
        response_200 = DraftOutput.from_dict(response.json())

        return response_200

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

    if response.status_code == 502:
        response_502 = DraftError.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = DraftError.from_dict(response.json())

        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[DraftError | DraftOutput | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    product_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[DraftError | DraftOutput | Error]:
    """Draft a title, description and attributes from the product's images with the configured vision-
    language model (RERANK_API_BASE and RERANK_MODEL, or RERANK_LOCAL_MODEL). The product is not
    changed: PATCH it with what you keep (the draft is also kept for review in the admin). 503 when no
    model is configured, 502 when its answer is unusable, 504 when it does not answer in time.

    Args:
        product_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DraftError | DraftOutput | Error]
    """

    kwargs = _get_kwargs(
        product_id=product_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    product_id: int,
    *,
    client: AuthenticatedClient,
) -> DraftError | DraftOutput | Error | None:
    """Draft a title, description and attributes from the product's images with the configured vision-
    language model (RERANK_API_BASE and RERANK_MODEL, or RERANK_LOCAL_MODEL). The product is not
    changed: PATCH it with what you keep (the draft is also kept for review in the admin). 503 when no
    model is configured, 502 when its answer is unusable, 504 when it does not answer in time.

    Args:
        product_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DraftError | DraftOutput | Error
    """

    return sync_detailed(
        product_id=product_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    product_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[DraftError | DraftOutput | Error]:
    """Draft a title, description and attributes from the product's images with the configured vision-
    language model (RERANK_API_BASE and RERANK_MODEL, or RERANK_LOCAL_MODEL). The product is not
    changed: PATCH it with what you keep (the draft is also kept for review in the admin). 503 when no
    model is configured, 502 when its answer is unusable, 504 when it does not answer in time.

    Args:
        product_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DraftError | DraftOutput | Error]
    """

    kwargs = _get_kwargs(
        product_id=product_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    product_id: int,
    *,
    client: AuthenticatedClient,
) -> DraftError | DraftOutput | Error | None:
    """Draft a title, description and attributes from the product's images with the configured vision-
    language model (RERANK_API_BASE and RERANK_MODEL, or RERANK_LOCAL_MODEL). The product is not
    changed: PATCH it with what you keep (the draft is also kept for review in the admin). 503 when no
    model is configured, 502 when its answer is unusable, 504 when it does not answer in time.

    Args:
        product_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DraftError | DraftOutput | Error
    """

    return (
        await asyncio_detailed(
            product_id=product_id,
            client=client,
        )
    ).parsed
