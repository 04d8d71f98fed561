from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.look_output import LookOutput
from ...models.search_input_request import SearchInputRequest
from ...models.search_output import SearchOutput
from ...models.search_photo_input_request import SearchPhotoInputRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: SearchInputRequest | SearchPhotoInputRequest | Unset = UNSET,
    x_visitor_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_visitor_id, Unset):
        headers["X-Visitor-Id"] = x_visitor_id

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/search/",
    }

    if isinstance(body, SearchInputRequest):
        if not isinstance(body, Unset):
            _kwargs["json"] = body.to_dict()

        headers["Content-Type"] = "application/json"
    if isinstance(body, SearchPhotoInputRequest):
        if not isinstance(body, Unset):
            _kwargs["files"] = body.to_multipart()

        headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | LookOutput | SearchOutput | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> LookOutput | SearchOutput:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_search_or_look_output_type_0 = SearchOutput.from_dict(data)

                return componentsschemas_search_or_look_output_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_search_or_look_output_type_1 = LookOutput.from_dict(data)

            return componentsschemas_search_or_look_output_type_1

        response_200 = _parse_response_200(response.json())

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
) -> Response[Error | LookOutput | SearchOutput]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: SearchInputRequest | SearchPhotoInputRequest | Unset = UNSET,
    x_visitor_id: str | Unset = UNSET,
) -> Response[Error | LookOutput | SearchOutput]:
    """JSON for a text query; multipart with `image` (and optional `text`, `text_weight`) for a photo or
    hybrid query. In multipart, `filters` and `weights` are JSON strings. With `crop` only that part of
    the photo is searched; with `look` the items in the photo are detected and each gets its own group
    of results (the answer is then a look, not a result list).

    Args:
        x_visitor_id (str | Unset):
        body (SearchInputRequest | Unset):
        body (SearchPhotoInputRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | LookOutput | SearchOutput]
    """

    kwargs = _get_kwargs(
        body=body,
        x_visitor_id=x_visitor_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: SearchInputRequest | SearchPhotoInputRequest | Unset = UNSET,
    x_visitor_id: str | Unset = UNSET,
) -> Error | LookOutput | SearchOutput | None:
    """JSON for a text query; multipart with `image` (and optional `text`, `text_weight`) for a photo or
    hybrid query. In multipart, `filters` and `weights` are JSON strings. With `crop` only that part of
    the photo is searched; with `look` the items in the photo are detected and each gets its own group
    of results (the answer is then a look, not a result list).

    Args:
        x_visitor_id (str | Unset):
        body (SearchInputRequest | Unset):
        body (SearchPhotoInputRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | LookOutput | SearchOutput
    """

    return sync_detailed(
        client=client,
        body=body,
        x_visitor_id=x_visitor_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: SearchInputRequest | SearchPhotoInputRequest | Unset = UNSET,
    x_visitor_id: str | Unset = UNSET,
) -> Response[Error | LookOutput | SearchOutput]:
    """JSON for a text query; multipart with `image` (and optional `text`, `text_weight`) for a photo or
    hybrid query. In multipart, `filters` and `weights` are JSON strings. With `crop` only that part of
    the photo is searched; with `look` the items in the photo are detected and each gets its own group
    of results (the answer is then a look, not a result list).

    Args:
        x_visitor_id (str | Unset):
        body (SearchInputRequest | Unset):
        body (SearchPhotoInputRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | LookOutput | SearchOutput]
    """

    kwargs = _get_kwargs(
        body=body,
        x_visitor_id=x_visitor_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: SearchInputRequest | SearchPhotoInputRequest | Unset = UNSET,
    x_visitor_id: str | Unset = UNSET,
) -> Error | LookOutput | SearchOutput | None:
    """JSON for a text query; multipart with `image` (and optional `text`, `text_weight`) for a photo or
    hybrid query. In multipart, `filters` and `weights` are JSON strings. With `crop` only that part of
    the photo is searched; with `look` the items in the photo are detected and each gets its own group
    of results (the answer is then a look, not a result list).

    Args:
        x_visitor_id (str | Unset):
        body (SearchInputRequest | Unset):
        body (SearchPhotoInputRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | LookOutput | SearchOutput
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            x_visitor_id=x_visitor_id,
        )
    ).parsed
