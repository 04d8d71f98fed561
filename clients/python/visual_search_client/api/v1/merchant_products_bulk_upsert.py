from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.bulk_result import BulkResult
from ...models.error import Error
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    *,
    body: File | Unset = UNSET,
    merchant: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["merchant"] = merchant

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/merchant/products/bulk/",
        "params": params,
    }

    if not isinstance(body, Unset):
        _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/x-ndjson"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> BulkResult | Error | None:
    if response.status_code == 200:
        response_200 = BulkResult.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[BulkResult | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: File | Unset = UNSET,
    merchant: str | Unset = UNSET,
) -> Response[BulkResult | Error]:
    """One product per JSON line, or per CSV row under a header of field names (sku, title, price, gtin,
    mpn, description, brand, category, currency, in_stock, is_active, attributes as a JSON object). A
    row whose SKU the merchant has updates that product's given fields; any other row creates a product
    (sku, title, price required). At most BULK_UPSERT_MAX_ROWS rows (1,000 by default) per call. Each
    row is saved on its own: the answer lists every row's outcome, and a failed row does not undo the
    others. Sending the same file again changes nothing (every row `unchanged`). In CSV an empty price,
    currency, in_stock, is_active or attributes cell means 'not given'.

    Args:
        merchant (str | Unset):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BulkResult | Error]
    """

    kwargs = _get_kwargs(
        body=body,
        merchant=merchant,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: File | Unset = UNSET,
    merchant: str | Unset = UNSET,
) -> BulkResult | Error | None:
    """One product per JSON line, or per CSV row under a header of field names (sku, title, price, gtin,
    mpn, description, brand, category, currency, in_stock, is_active, attributes as a JSON object). A
    row whose SKU the merchant has updates that product's given fields; any other row creates a product
    (sku, title, price required). At most BULK_UPSERT_MAX_ROWS rows (1,000 by default) per call. Each
    row is saved on its own: the answer lists every row's outcome, and a failed row does not undo the
    others. Sending the same file again changes nothing (every row `unchanged`). In CSV an empty price,
    currency, in_stock, is_active or attributes cell means 'not given'.

    Args:
        merchant (str | Unset):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BulkResult | Error
    """

    return sync_detailed(
        client=client,
        body=body,
        merchant=merchant,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: File | Unset = UNSET,
    merchant: str | Unset = UNSET,
) -> Response[BulkResult | Error]:
    """One product per JSON line, or per CSV row under a header of field names (sku, title, price, gtin,
    mpn, description, brand, category, currency, in_stock, is_active, attributes as a JSON object). A
    row whose SKU the merchant has updates that product's given fields; any other row creates a product
    (sku, title, price required). At most BULK_UPSERT_MAX_ROWS rows (1,000 by default) per call. Each
    row is saved on its own: the answer lists every row's outcome, and a failed row does not undo the
    others. Sending the same file again changes nothing (every row `unchanged`). In CSV an empty price,
    currency, in_stock, is_active or attributes cell means 'not given'.

    Args:
        merchant (str | Unset):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BulkResult | Error]
    """

    kwargs = _get_kwargs(
        body=body,
        merchant=merchant,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: File | Unset = UNSET,
    merchant: str | Unset = UNSET,
) -> BulkResult | Error | None:
    """One product per JSON line, or per CSV row under a header of field names (sku, title, price, gtin,
    mpn, description, brand, category, currency, in_stock, is_active, attributes as a JSON object). A
    row whose SKU the merchant has updates that product's given fields; any other row creates a product
    (sku, title, price required). At most BULK_UPSERT_MAX_ROWS rows (1,000 by default) per call. Each
    row is saved on its own: the answer lists every row's outcome, and a failed row does not undo the
    others. Sending the same file again changes nothing (every row `unchanged`). In CSV an empty price,
    currency, in_stock, is_active or attributes cell means 'not given'.

    Args:
        merchant (str | Unset):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BulkResult | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            merchant=merchant,
        )
    ).parsed
