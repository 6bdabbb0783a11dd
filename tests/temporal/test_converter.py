"""The plugin's converter: same payloads as Temporal's Pydantic converter, with type
adapters that a new converter instance (one per workflow) finds already built."""

from __future__ import annotations

from temporalio.contrib.pydantic import pydantic_data_converter

from revsync.events.types import EventInput
from revsync.temporal import converter
from revsync.temporal.converter import PayloadConverter


def _event() -> EventInput:
    return EventInput(workspace_id=3, event_id="evt_1", event_type="customer.updated",
                      created=1_700_000_000, targets=[], stripe_task_queue="revsync-stripe-events")


def test_payloads_are_the_bytes_temporals_pydantic_converter_writes() -> None:
    ours = PayloadConverter().to_payloads([_event()])
    stock = pydantic_data_converter.payload_converter.to_payloads([_event()])
    assert ours == stock
    assert PayloadConverter().from_payloads(ours, [EventInput]) == [_event()]


def test_a_new_converter_instance_reuses_the_type_adapter_already_built() -> None:
    payloads = PayloadConverter().to_payloads([_event()])
    PayloadConverter().from_payloads(payloads, [EventInput])
    built = converter._adapter.cache_info().misses
    PayloadConverter().from_payloads(payloads, [EventInput])
    assert converter._adapter.cache_info().misses == built
