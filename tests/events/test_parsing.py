"""`revsync.events`: envelope validation and which objects each event type refetches.

Pure: no I/O. Ids in the payload are the only thing read from its object, and only
well-formed ids become targets (they end up in Stripe URLs and workflow inputs).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from revsync.events.parsing import HANDLED_TYPES, EventError, ParsedEvent, parse_event, targets
from revsync.events.types import Target

CREATED = 1_750_000_000


def envelope(event_type: str, obj: Any, **fields: Any) -> dict[str, Any]:
    """A Stripe event as its webhook body carries it."""
    return {
        "id": "evt_1Abc",
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": CREATED,
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
        **fields,
    }


def parse(event: dict[str, Any]) -> ParsedEvent:
    return parse_event(orjson.dumps(event))


def found(event_type: str, obj: dict[str, Any]) -> list[Target]:
    """The targets, through the whole parser."""
    return list(parse(envelope(event_type, obj)).targets)


def cus(i: str) -> Target:
    return Target("customers", i)


def sub(i: str) -> Target:
    return Target("subscriptions", i)


def inv(i: str) -> Target:
    return Target("invoices", i)


def ch(i: str) -> Target:
    return Target("charges", i)


def test_a_valid_event_is_parsed() -> None:
    event = parse(envelope("customer.updated", {"id": "cus_A1", "object": "customer"}))
    assert event == ParsedEvent("evt_1Abc", "customer.updated", CREATED, (cus("cus_A1"),))
    assert event.handled is True


# --- targets per event family --------------------------------------------------------------


@pytest.mark.parametrize("event_type", ["customer.created", "customer.updated",
                                        "customer.deleted"])
def test_customer_events_refetch_the_customer(event_type: str) -> None:
    obj = {"id": "cus_A1", "object": "customer", "email": "ann@example.com"}
    assert found(event_type, obj) == [cus("cus_A1")]


@pytest.mark.parametrize("event_type", ["customer.discount.created",
                                        "customer.discount.updated",
                                        "customer.discount.deleted"])
def test_discount_on_a_subscription_refetches_customer_and_subscription(event_type: str) -> None:
    obj = {"id": "di_9", "object": "discount", "customer": "cus_A1", "subscription": "sub_B2"}
    assert found(event_type, obj) == [cus("cus_A1"), sub("sub_B2")]


def test_discount_on_the_customer_refetches_only_the_customer() -> None:
    obj = {"id": "di_9", "object": "discount", "customer": "cus_A1", "subscription": None}
    assert found("customer.discount.created", obj) == [cus("cus_A1")]


def test_discount_with_expanded_customer_and_subscription() -> None:
    obj = {"id": "di_9", "customer": {"id": "cus_A1", "object": "customer"},
           "subscription": {"id": "sub_B2", "object": "subscription"}}
    assert found("customer.discount.updated", obj) == [cus("cus_A1"), sub("sub_B2")]


@pytest.mark.parametrize("event_type", sorted(t for t in HANDLED_TYPES
                                              if t.startswith("customer.subscription.")))
def test_subscription_events_refetch_the_subscription(event_type: str) -> None:
    obj = {"id": "sub_B2", "object": "subscription", "customer": "cus_A1"}
    assert found(event_type, obj) == [sub("sub_B2")]


def test_all_six_subscription_events_are_handled() -> None:
    assert sorted(t for t in HANDLED_TYPES if t.startswith("customer.subscription.")) == [
        "customer.subscription.created", "customer.subscription.deleted",
        "customer.subscription.paused", "customer.subscription.resumed",
        "customer.subscription.trial_will_end", "customer.subscription.updated",
    ]


@pytest.mark.parametrize("event_type", ["invoice.paid", "invoice.payment_failed"])
def test_invoice_refetches_invoice_and_subscription_from_parent(event_type: str) -> None:
    """Since API version 2025-03-31 the subscription is under `parent`."""
    obj = {"id": "in_C3", "object": "invoice", "customer": "cus_A1",
           "parent": {"type": "subscription_details",
                      "subscription_details": {"subscription": "sub_B2"}}}
    assert found(event_type, obj) == [inv("in_C3"), sub("sub_B2")]


def test_invoice_refetches_legacy_subscription_field() -> None:
    obj = {"id": "in_C3", "object": "invoice", "subscription": "sub_B2"}
    assert found("invoice.paid", obj) == [inv("in_C3"), sub("sub_B2")]


def test_invoice_with_expanded_subscription_in_parent() -> None:
    obj = {"id": "in_C3", "parent": {"subscription_details": {
        "subscription": {"id": "sub_B2", "object": "subscription"}}}}
    assert found("invoice.paid", obj) == [inv("in_C3"), sub("sub_B2")]


def test_invoice_parent_wins_over_legacy_field() -> None:
    obj = {"id": "in_C3", "subscription": "sub_OLD",
           "parent": {"subscription_details": {"subscription": "sub_NEW"}}}
    assert found("invoice.paid", obj) == [inv("in_C3"), sub("sub_NEW")]


@pytest.mark.parametrize("obj", [
    pytest.param({"id": "in_C3", "parent": None, "subscription": None}, id="none"),
    pytest.param({"id": "in_C3", "parent": {"type": "quote_details", "quote_details": {},
                                            "subscription_details": None}}, id="quote-parent"),
    pytest.param({"id": "in_C3"}, id="absent"),
])
def test_invoice_without_subscription_refetches_only_the_invoice(obj: dict[str, Any]) -> None:
    assert found("invoice.payment_failed", obj) == [inv("in_C3")]


@pytest.mark.parametrize("event_type", ["charge.succeeded", "charge.captured",
                                        "charge.refunded"])
def test_charge_events_refetch_the_charge(event_type: str) -> None:
    obj = {"id": "ch_D4", "object": "charge", "customer": "cus_A1", "amount": 3000}
    assert found(event_type, obj) == [ch("ch_D4")]


@pytest.mark.parametrize("event_type", ["charge.refund.updated", "refund.created",
                                        "refund.updated", "refund.failed"])
def test_refund_events_refetch_the_refunded_charge(event_type: str) -> None:
    obj = {"id": "re_E5", "object": "refund", "charge": "ch_D4", "amount": 500}
    assert found(event_type, obj) == [ch("ch_D4")]


def test_refund_with_expanded_charge() -> None:
    obj = {"id": "re_E5", "charge": {"id": "ch_D4", "object": "charge"}}
    assert found("refund.updated", obj) == [ch("ch_D4")]


def test_refund_without_charge_has_no_target() -> None:
    """A refund of a PaymentIntent paid otherwise carries no charge."""
    assert found("refund.created", {"id": "re_E5", "charge": None}) == []


@pytest.mark.parametrize("event_type", ["checkout.session.completed",
                                        "checkout.session.expired"])
def test_checkout_session_refetches_its_customer(event_type: str) -> None:
    obj = {"id": "cs_test_F6", "object": "checkout.session", "customer": "cus_A1"}
    assert found(event_type, obj) == [cus("cus_A1")]


def test_checkout_session_without_customer_has_no_target() -> None:
    """Guest checkouts create no customer: handled, but nothing to refetch."""
    event = parse(envelope("checkout.session.completed",
                           {"id": "cs_test_F6", "customer": None}))
    assert event.handled is True
    assert event.targets == ()


def test_every_handled_type_finds_a_target_in_a_complete_object() -> None:
    """No handled type silently maps to nothing."""
    obj = {"id": "X", "customer": "cus_A1", "subscription": "sub_B2", "charge": "ch_D4"}
    for event_type in sorted(HANDLED_TYPES):
        family = event_type.rsplit(".", 1)[0]
        object_id = {"customer": "cus_A1", "customer.subscription": "sub_B2",
                     "invoice": "in_C3", "charge": "ch_D4"}.get(family, "x_1")
        assert targets(event_type, {**obj, "id": object_id}), event_type


def test_targets_called_directly() -> None:
    assert targets("customer.updated", {"id": "cus_A1"}) == [cus("cus_A1")]
    assert targets("payment_intent.created", {"id": "pi_1", "customer": "cus_A1"}) == []


# --- unhandled types ---------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", [
    "payment_intent.created", "invoice.created", "invoice.finalized",
    "customer.source.created", "customer.tax_id.created", "product.updated",
    "something.new.in.a.future.api",
])
def test_unhandled_type_parses_without_targets(event_type: str) -> None:
    obj = {"id": "cus_A1", "customer": "cus_A1", "subscription": "sub_B2", "charge": "ch_D4"}
    event = parse(envelope(event_type, obj))
    assert (event.id, event.type, event.created) == ("evt_1Abc", event_type, CREATED)
    assert event.handled is False
    assert event.targets == ()


# --- malformed envelopes -------------------------------------------------------------------------


def error_of(body: bytes) -> str:
    with pytest.raises(EventError) as caught:
        parse_event(body)
    return str(caught.value)


def test_event_error_is_a_value_error() -> None:
    assert issubclass(EventError, ValueError)


@pytest.mark.parametrize("body", [b"", b"not json", b"{", b'{"id": "evt_1",}', b"\xff\xfe",
                                  b"NaN", b'{"id": "evt_1"} trailing', b"[" * 2000 + b"]" * 2000,
                                  b'{"a": 1e400}', b'"\\ud800"'])
def test_body_that_is_not_json(body: bytes) -> None:
    assert error_of(body).startswith("body is not JSON: ")


@pytest.mark.parametrize("body", [b"[]", b'[{"id": "evt_1"}]', b"null", b"1", b'"evt_1"',
                                  b"true"])
def test_json_that_is_not_an_object(body: bytes) -> None:
    assert error_of(body) == "body is not a JSON object"


BAD_ID = "`id` must be an event id (evt_...)"


@pytest.mark.parametrize("event_id", [
    pytest.param(None, id="null"),
    pytest.param(123, id="number"),
    pytest.param(["evt_1"], id="list"),
    pytest.param("", id="empty"),
    pytest.param("evt_", id="prefix-only"),
    pytest.param("cus_1", id="other-prefix"),
    pytest.param("EVT_1", id="uppercase-prefix"),
    pytest.param(" evt_1", id="leading-space"),
    pytest.param("evt_1 2", id="space"),
    pytest.param("evt_1\n", id="newline"),
    pytest.param("evt_é", id="unicode-letter"),
    pytest.param("evt_١٢", id="unicode-digits"),
    pytest.param("evt_1/../x", id="path"),
    pytest.param("evt_1-2", id="dash"),
    pytest.param("evt_" + "a" * 252, id="256-chars"),
])
def test_bad_event_id(event_id: Any) -> None:
    assert error_of(orjson.dumps(envelope("customer.updated", {}, id=event_id))) == BAD_ID


def test_missing_event_id() -> None:
    event = envelope("customer.updated", {})
    del event["id"]
    assert error_of(orjson.dumps(event)) == BAD_ID


def test_event_id_of_255_chars_is_accepted() -> None:
    long_id = "evt_" + "a" * 251
    assert len(long_id) == 255
    assert parse(envelope("customer.updated", {}, id=long_id)).id == long_id


@pytest.mark.parametrize("event_type", [None, "", 5, ["customer.updated"], "x" * 101])
def test_bad_type(event_type: Any) -> None:
    body = orjson.dumps(envelope("unused", {}, type=event_type))
    assert error_of(body) == "`type` must be a non-empty string"


def test_type_of_100_chars_is_accepted() -> None:
    assert parse(envelope("x" * 100, {})).handled is False


@pytest.mark.parametrize("created", [
    pytest.param("1750000000", id="string"),
    pytest.param(True, id="true"),
    pytest.param(False, id="false"),
    pytest.param(-1, id="negative"),
    pytest.param(1.5, id="float"),
    pytest.param(1750000000.0, id="integral-float"),
    pytest.param(None, id="null"),
])
def test_bad_created(created: Any) -> None:
    body = orjson.dumps(envelope("customer.updated", {}, created=created))
    assert error_of(body) == "`created` must be a unix timestamp"


def test_created_zero_is_accepted() -> None:
    assert parse(envelope("customer.updated", {}, created=0)).created == 0


def test_missing_created() -> None:
    event = envelope("customer.updated", {})
    del event["created"]
    assert error_of(orjson.dumps(event)) == "`created` must be a unix timestamp"


BAD_OBJECT = "`data.object` must be an object"


@pytest.mark.parametrize("data", [None, [], "x", {}, {"object": None}, {"object": []},
                                  {"object": "cus_A1"}, {"previous_attributes": {}}])
def test_bad_data(data: Any) -> None:
    body = orjson.dumps(envelope("customer.updated", {}, data=data))
    assert error_of(body) == BAD_OBJECT


def test_missing_data() -> None:
    event = envelope("customer.updated", {})
    del event["data"]
    assert error_of(orjson.dumps(event)) == BAD_OBJECT


def test_first_problem_is_reported() -> None:
    """Checks run id, type, created, data: the message names the first failure."""
    assert error_of(b'{"type": 1, "created": "x"}') == BAD_ID
    assert error_of(b'{"id": "evt_1", "created": "x"}') == "`type` must be a non-empty string"


# --- odd ids inside the object -----------------------------------------------------------------


@pytest.mark.parametrize("odd", [
    "cus_x/../y", "cus_", "cus_a b", "cus_a\nb", "cus_é", "cus_a-b", "cus_a?expand=x",
    "sub_A1", "CUS_A1", "cus_" + "a" * 252, "", 42, None, True, ["cus_A1"], {"id": 5},
])
def test_odd_customer_id_gives_no_target(odd: Any) -> None:
    assert found("customer.updated", {"id": odd}) == []
    assert found("checkout.session.completed", {"id": "cs_1", "customer": odd}) == []


def test_odd_ids_are_dropped_one_by_one() -> None:
    """A bad customer id does not hide the subscription next to it, and vice versa."""
    assert found("customer.discount.created",
                 {"customer": "cus_x/../y", "subscription": "sub_B2"}) == [sub("sub_B2")]
    assert found("customer.discount.created",
                 {"customer": "cus_A1", "subscription": "sub_../x"}) == [cus("cus_A1")]
    assert found("invoice.paid", {"id": "in_../C3", "subscription": "sub_B2"}) == [sub("sub_B2")]
    assert found("invoice.paid", {"id": "in_C3", "parent": {
        "subscription_details": {"subscription": "sub_B2/x"}}}) == [inv("in_C3")]


@pytest.mark.parametrize(("event_type", "obj"), [
    ("customer.subscription.updated", {"id": "cus_A1"}),
    ("charge.succeeded", {"id": "py_D4"}),
    ("refund.created", {"charge": "re_E5"}),
    ("invoice.paid", {"id": "sub_B2"}),
])
def test_id_with_the_wrong_prefix_gives_no_target(event_type: str, obj: dict[str, Any]) -> None:
    assert found(event_type, obj) == []


def test_id_of_255_chars_is_a_target() -> None:
    long_id = "cus_" + "a" * 251
    assert found("customer.updated", {"id": long_id}) == [cus(long_id)]


# --- property: never any other exception ---------------------------------------------------------

PREFIX = {"customers": "cus_", "subscriptions": "sub_", "invoices": "in_", "charges": "ch_"}
SAFE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
    | st.sampled_from(["cus_A1", "sub_B2", "in_C3", "ch_D4", "evt_1", "cus_x/../y"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["id", "customer", "subscription", "charge", "parent",
                                       "subscription_details", "object"]) | st.text(max_size=8),
                      children, max_size=5),
    max_leaves=20,
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["evt_1", "evt_", "evt_a/b"]) | json_values,
        "type": st.sampled_from(sorted(HANDLED_TYPES)) | json_values,
        "created": st.integers(-5, 2**64 - 1) | json_values,
        "data": st.fixed_dictionaries({}, optional={"object": json_values}) | json_values,
    },
)
bodies = (
    st.binary(max_size=300)
    | envelopes.map(orjson.dumps)
    | json_values.map(orjson.dumps)
    # valid JSON cut or with one byte flipped
    | st.tuples(envelopes.map(orjson.dumps), st.integers(0, 400), st.integers(0, 255)).map(
        lambda t: t[0][: t[1] % (len(t[0]) + 1)] + bytes([t[2]]) + t[0][t[1] % (len(t[0]) + 1) + 1:]
    )
)


@given(bodies)
def test_parse_event_returns_an_event_or_raises_event_error(body: bytes) -> None:
    try:
        event = parse_event(body)
    except EventError:
        return
    assert isinstance(event, ParsedEvent)
    assert event.id.startswith("evt_") and SAFE_ID.fullmatch(event.id)
    assert isinstance(event.created, int) and event.created >= 0
    assert event.handled or event.targets == ()
    for target in event.targets:
        assert target.id.startswith(PREFIX[target.stream]) and SAFE_ID.fullmatch(target.id)


# --- property: every well-formed event parses, and names the object it is about -----------

# For each handled type, the stream and the field of `data.object` holding the id that
# must become a target (written out here, not read from the parser).
PRIMARY = {
    "customer": ("customers", "id", "cus_"),
    "customer.subscription": ("subscriptions", "id", "sub_"),
    "invoice": ("invoices", "id", "in_"),
    "charge": ("charges", "id", "ch_"),
    "charge.refund": ("charges", "charge", "ch_"),
    "refund": ("charges", "charge", "ch_"),
    "checkout.session": ("customers", "customer", "cus_"),
    "customer.discount": ("customers", "customer", "cus_"),
}
id_tails = st.text(st.sampled_from("abcXYZ019_"), min_size=1, max_size=24)


@st.composite
def valid_events(draw: st.DrawFn) -> tuple[dict[str, Any], Target]:
    event_type = draw(st.sampled_from(sorted(HANDLED_TYPES)))
    stream, field, prefix = PRIMARY[event_type.rsplit(".", 1)[0]]
    object_id = prefix + draw(id_tails)
    obj: dict[str, Any] = draw(st.dictionaries(st.sampled_from(["object", "livemode", "x"]),
                                               json_values, max_size=3))
    obj[field] = draw(st.sampled_from([object_id, {"id": object_id, "object": "x"}])
                      if field != "id" else st.just(object_id))
    event = envelope(event_type, obj, id="evt_" + draw(id_tails),
                     created=draw(st.integers(0, 4_000_000_000)))
    return event, Target(stream, object_id)


@given(valid_events())
def test_a_well_formed_event_parses_and_targets_its_object(case: tuple[dict[str, Any], Target]
                                                           ) -> None:
    event, expected = case
    parsed = parse(event)  # well-formed: must not raise
    assert (parsed.id, parsed.type, parsed.created) == (event["id"], event["type"],
                                                       event["created"])
    assert parsed.handled
    assert expected in parsed.targets
    assert len(parsed.targets) <= 2
