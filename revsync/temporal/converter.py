"""The plugin's data converter: Pydantic JSON, with type adapters built once per process.

Temporal gives every workflow instance a new payload converter built from its class, so
the stock Pydantic converter's per-instance cache of `TypeAdapter`s starts empty for
each workflow, and every webhook event would rebuild the adapter of its input (a schema
generation, a noticeable share of the worker's CPU per event). Here the cache belongs to
the process. The payloads are the same bytes either way.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

_adapter = functools.lru_cache(maxsize=1024)(TypeAdapter)


class SharedAdapterJSONConverter(PydanticJSONPlainPayloadConverter):
    """`PydanticJSONPlainPayloadConverter` whose type adapters outlive the instance."""

    def __init__(self) -> None:
        super().__init__()
        self._type_adapter: Any = _adapter


class PayloadConverter(CompositePayloadConverter):
    """Temporal's default converters, with JSON through `SharedAdapterJSONConverter`."""

    def __init__(self) -> None:
        json_converter = SharedAdapterJSONConverter()
        super().__init__(*(
            json_converter if isinstance(c, JSONPlainPayloadConverter) else c
            for c in DefaultPayloadConverter.default_encoding_payload_converters
        ))


data_converter = DataConverter(payload_converter_class=PayloadConverter)
