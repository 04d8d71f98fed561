from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.search_output import SearchOutput
from ...types import UNSET, Response, Unset


def _get_kwargs(
    product_id: int,
    *,
    brand: list[str] | Unset = UNSET,
    category: list[str] | Unset = UNSET,
    color: list[str] | Unset = UNSET,
    in_stock: bool | Unset = UNSET,
    limit: int | Unset = UNSET,
    merchant: str | Unset = UNSET,
    offset: int | Unset = UNSET,
    price_max: float | Unset = UNSET,
    price_min: float | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_brand: list[str] | Unset = UNSET
    if not isinstance(brand, Unset):
        json_brand = brand

    params["brand"] = json_brand

    json_category: list[str] | Unset = UNSET
    if not isinstance(category, Unset):
        json_category = category

    params["category"] = json_category

    json_color: list[str] | Unset = UNSET
    if not isinstance(color, Unset):
        json_color = color

    params["color"] = json_color

    params["in_stock"] = in_stock

    params["limit"] = limit

    params["merchant"] = merchant

    params["offset"] = offset

    params["price_max"] = price_max

    params["price_min"] = price_min

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/products/{product_id}/similar/".format(
            product_id=quote(str(product_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | SearchOutput | None:
    if response.status_code == 200:
        response_200 = SearchOutput.from_dict(response.json())

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | SearchOutput]:
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
    brand: list[str] | Unset = UNSET,
    category: list[str] | Unset = UNSET,
    color: list[str] | Unset = UNSET,
    in_stock: bool | Unset = UNSET,
    limit: int | Unset = UNSET,
    merchant: str | Unset = UNSET,
    offset: int | Unset = UNSET,
    price_max: float | Unset = UNSET,
    price_min: float | Unset = UNSET,
) -> Response[Error | SearchOutput]:
    """More like this: products whose images look like this product's images.

    Args:
        product_id (int):
        brand (list[str] | Unset):
        category (list[str] | Unset):
        color (list[str] | Unset):
        in_stock (bool | Unset):
        limit (int | Unset):
        merchant (str | Unset):
        offset (int | Unset):
        price_max (float | Unset):
        price_min (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SearchOutput]
    """

    kwargs = _get_kwargs(
        product_id=product_id,
        brand=brand,
        category=category,
        color=color,
        in_stock=in_stock,
        limit=limit,
        merchant=merchant,
        offset=offset,
        price_max=price_max,
        price_min=price_min,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    product_id: int,
    *,
    client: AuthenticatedClient,
    brand: list[str] | Unset = UNSET,
    category: list[str] | Unset = UNSET,
    color: list[str] | Unset = UNSET,
    in_stock: bool | Unset = UNSET,
    limit: int | Unset = UNSET,
    merchant: str | Unset = UNSET,
    offset: int | Unset = UNSET,
    price_max: float | Unset = UNSET,
    price_min: float | Unset = UNSET,
) -> Error | SearchOutput | None:
    """More like this: products whose images look like this product's images.

    Args:
        product_id (int):
        brand (list[str] | Unset):
        category (list[str] | Unset):
        color (list[str] | Unset):
        in_stock (bool | Unset):
        limit (int | Unset):
        merchant (str | Unset):
        offset (int | Unset):
        price_max (float | Unset):
        price_min (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SearchOutput
    """

    return sync_detailed(
        product_id=product_id,
        client=client,
        brand=brand,
        category=category,
        color=color,
        in_stock=in_stock,
        limit=limit,
        merchant=merchant,
        offset=offset,
        price_max=price_max,
        price_min=price_min,
    ).parsed


async def asyncio_detailed(
    product_id: int,
    *,
    client: AuthenticatedClient,
    brand: list[str] | Unset = UNSET,
    category: list[str] | Unset = UNSET,
    color: list[str] | Unset = UNSET,
    in_stock: bool | Unset = UNSET,
    limit: int | Unset = UNSET,
    merchant: str | Unset = UNSET,
    offset: int | Unset = UNSET,
    price_max: float | Unset = UNSET,
    price_min: float | Unset = UNSET,
) -> Response[Error | SearchOutput]:
    """More like this: products whose images look like this product's images.

    Args:
        product_id (int):
        brand (list[str] | Unset):
        category (list[str] | Unset):
        color (list[str] | Unset):
        in_stock (bool | Unset):
        limit (int | Unset):
        merchant (str | Unset):
        offset (int | Unset):
        price_max (float | Unset):
        price_min (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SearchOutput]
    """

    kwargs = _get_kwargs(
        product_id=product_id,
        brand=brand,
        category=category,
        color=color,
        in_stock=in_stock,
        limit=limit,
        merchant=merchant,
        offset=offset,
        price_max=price_max,
        price_min=price_min,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    product_id: int,
    *,
    client: AuthenticatedClient,
    brand: list[str] | Unset = UNSET,
    category: list[str] | Unset = UNSET,
    color: list[str] | Unset = UNSET,
    in_stock: bool | Unset = UNSET,
    limit: int | Unset = UNSET,
    merchant: str | Unset = UNSET,
    offset: int | Unset = UNSET,
    price_max: float | Unset = UNSET,
    price_min: float | Unset = UNSET,
) -> Error | SearchOutput | None:
    """More like this: products whose images look like this product's images.

    Args:
        product_id (int):
        brand (list[str] | Unset):
        category (list[str] | Unset):
        color (list[str] | Unset):
        in_stock (bool | Unset):
        limit (int | Unset):
        merchant (str | Unset):
        offset (int | Unset):
        price_max (float | Unset):
        price_min (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SearchOutput
    """

    return (
        await asyncio_detailed(
            product_id=product_id,
            client=client,
            brand=brand,
            category=category,
            color=color,
            in_stock=in_stock,
            limit=limit,
            merchant=merchant,
            offset=offset,
            price_max=price_max,
            price_min=price_min,
        )
    ).parsed
