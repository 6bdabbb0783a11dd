"""Create/update/delete requests: Stripe's form parameters -> :class:`FakeStripe` calls.

Beyond Stripe's own parameters, a few test-only ones let HTTP clients craft states
Stripe reaches by itself: ``status`` and ``created`` on creates and updates of
subscriptions, charges, invoices and refunds (e.g. ``status=failed``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .errors import StripeError, invalid_param, resource_missing
from .forms import metadata, to_bool, to_int, to_list
from .objects import StripeObject
from .store import SUBSCRIPTION_STATUSES, FakeStripe

Params = dict[str, Any]
Converter = Callable[[Any, str], Any]


def _str(value: Any, param: str) -> Any:
    if not isinstance(value, str):
        raise invalid_param(param, f"Invalid string: {param}")
    return value


def _nullable_str(value: Any, param: str) -> Any:
    return None if value == "" else _str(value, param)


def _nullable_int(value: Any, param: str) -> Any:
    return None if value == "" else to_int(value, param)


def _choice(*options: str) -> Converter:
    def convert(value: Any, param: str) -> Any:
        if value not in options:
            raise invalid_param(param, f"Invalid {param}: must be one of {', '.join(options)}")
        return value

    return convert


_CHARGE_STATUS = _choice("succeeded", "failed", "pending")
_INVOICE_STATUS = _choice("draft", "open", "paid", "uncollectible", "void")
_REFUND_STATUS = _choice("succeeded", "pending", "failed", "canceled", "requires_action")
_SUB_STATUS = _choice(*sorted(SUBSCRIPTION_STATUSES))

#: Plain fields per (type, op): parameter -> converter. ``metadata`` merges.
_FIELDS: Final[dict[tuple[str, str], dict[str, Converter]]] = {
    ("customer", "create"): {
        "email": _nullable_str, "name": _nullable_str, "description": _nullable_str,
        "phone": _nullable_str, "created": to_int,
    },
    ("customer", "update"): {
        "email": _nullable_str, "name": _nullable_str, "description": _nullable_str,
        "phone": _nullable_str,
    },
    ("subscription", "create"): {
        "customer": _str, "status": _SUB_STATUS, "created": to_int,
        "cancel_at_period_end": to_bool, "cancel_at": _nullable_int,
        "collection_method": _choice("charge_automatically", "send_invoice"),
        "days_until_due": _nullable_int, "description": _nullable_str,
        "trial_end": _nullable_int,
    },
    ("subscription", "update"): {
        "status": _SUB_STATUS, "cancel_at_period_end": to_bool, "cancel_at": _nullable_int,
        "collection_method": _choice("charge_automatically", "send_invoice"),
        "days_until_due": _nullable_int, "description": _nullable_str,
        "trial_end": _nullable_int,
    },
    ("charge", "create"): {
        "customer": _str, "amount": to_int, "currency": _str, "description": _nullable_str,
        "status": _CHARGE_STATUS, "created": to_int, "failure_code": _nullable_str,
        "receipt_email": _nullable_str,
    },
    ("charge", "update"): {"description": _nullable_str, "receipt_email": _nullable_str},
    ("refund", "create"): {},
    ("refund", "update"): {"status": _REFUND_STATUS},
    ("invoice", "create"): {
        "customer": _str, "currency": _str, "description": _nullable_str,
        "status": _INVOICE_STATUS, "created": to_int, "amount_due": to_int,
        "amount_paid": to_int, "collection_method": _str,
    },
    ("invoice", "update"): {"description": _nullable_str, "status": _INVOICE_STATUS},
    ("product", "create"): {
        "id": _str, "name": _str, "description": _nullable_str, "active": to_bool,
        "created": to_int,
    },
    ("product", "update"): {"name": _str, "description": _nullable_str, "active": to_bool},
    ("price", "create"): {
        "product": _str, "currency": _str, "unit_amount": to_int, "nickname": _nullable_str,
        "lookup_key": _nullable_str, "active": to_bool, "created": to_int,
        "billing_scheme": _choice("per_unit", "tiered"),
        "tiers_mode": _choice("volume", "graduated"),
    },
    ("price", "update"): {"nickname": _nullable_str, "active": to_bool,
                          "lookup_key": _nullable_str},
    ("coupon", "create"): {
        "id": _str, "name": _nullable_str, "percent_off": lambda v, p: float(v),
        "amount_off": to_int, "currency": _str,
        "duration": _choice("forever", "once", "repeating"), "duration_in_months": to_int,
        "max_redemptions": to_int, "redeem_by": to_int, "created": to_int,
    },
    ("coupon", "update"): {"name": _nullable_str},
}


def _plain(object_type: str, op: str, params: Params, current: Mapping[str, Any]) -> Params:
    """Convert the plain fields, merge metadata, and reject unknown parameters."""
    spec = _FIELDS[(object_type, op)]
    out: Params = {}
    for key, value in params.items():
        if key == "metadata":
            out["metadata"] = metadata(value, current.get("metadata"))
        elif key in spec:
            out[key] = spec[key](value, key)
        else:
            raise invalid_param(key, f"Received unknown parameter: {key}",
                                code="parameter_unknown")
    return out


def _require(params: Params, *names: str) -> None:
    for name in names:
        if name not in params or params[name] in ("", None):
            raise invalid_param(name, f"Missing required param: {name}.",
                                code="parameter_missing")


# ---- customers ---------------------------------------------------------------------

def create_customer(state: FakeStripe, params: Params) -> StripeObject:
    """``POST /v1/customers``."""
    coupon = params.pop("coupon", None)
    fields = _plain("customer", "create", params, {})
    if coupon:
        fields["discount"] = {"coupon": _coupon_id(state, coupon)}
    return state.put("customer", fields)


def update_customer(state: FakeStripe, customer_id: str, params: Params) -> StripeObject:
    """``POST /v1/customers/{id}``."""
    current = _current(state, "customer", customer_id)
    coupon = params.pop("coupon", None)
    fields = _plain("customer", "update", params, current)
    if coupon is not None:
        fields["discount"] = {"coupon": _coupon_id(state, coupon)} if coupon else None
    return state.update("customer", customer_id, fields)


# ---- subscriptions -----------------------------------------------------------------

def create_subscription(state: FakeStripe, params: Params) -> StripeObject:
    """``POST /v1/subscriptions`` (no invoice or charge is made)."""
    _require(params, "customer", "items")
    items = _new_items(state, to_list(params.pop("items"), "items"))
    discounts = _discounts(state, params.pop("discounts", None), params.pop("coupon", None))
    trial_days = params.pop("trial_period_days", None)
    fields = _plain("subscription", "create", params, {})
    if fields["customer"] not in state.tables["customer"]:
        raise resource_missing("customer", fields["customer"], status=400, param="customer")
    created = fields.setdefault("created", state.clock())
    fields.setdefault("start_date", created)
    if trial_days is not None:
        fields["trial_end"] = created + to_int(trial_days, "trial_period_days") * 86_400
    if fields.get("trial_end"):
        fields["trial_start"] = created
        fields.setdefault("status", "trialing")
        fields.setdefault("billing_cycle_anchor", fields["trial_end"])
    fields.setdefault("billing_cycle_anchor", created)
    fields.setdefault("status", "active")
    _status_side_effects(state, fields, {})
    fields["items"] = items
    if discounts is not None:
        fields["discounts"] = discounts
    return state.put("subscription", fields)


def update_subscription(state: FakeStripe, sub_id: str, params: Params) -> StripeObject:
    """``POST /v1/subscriptions/{id}``: items merge by id, ``deleted`` removes one."""
    current = _current(state, "subscription", sub_id)
    items_param = params.pop("items", None)
    discounts = _discounts(state, params.pop("discounts", None), params.pop("coupon", None))
    fields = _plain("subscription", "update", params, current)
    if items_param is not None:
        stored = state.record("subscription", sub_id).get("items", [])
        fields["items"] = _merge_items(state, stored, to_list(items_param, "items"))
    if discounts is not None:
        fields["discounts"] = discounts
    _status_side_effects(state, fields, current)
    return state.update("subscription", sub_id, fields)


def cancel_subscription(state: FakeStripe, sub_id: str, params: Params) -> StripeObject:
    """``DELETE /v1/subscriptions/{id}``."""
    _current(state, "subscription", sub_id)
    return state.cancel_subscription(sub_id)


def _status_side_effects(state: FakeStripe, fields: Params, current: Mapping[str, Any]) -> None:
    now = state.clock()
    if fields.get("cancel_at_period_end") and not current.get("cancel_at_period_end"):
        fields.setdefault("canceled_at", now)
        items = (current.get("items") or {}).get("data") or []
        if items:  # Stripe sets cancel_at to the period end as well
            fields.setdefault("cancel_at", items[0]["current_period_end"])
    if fields.get("cancel_at_period_end") is False and current.get("cancel_at_period_end"):
        fields.setdefault("canceled_at", None)
        fields.setdefault("cancel_at", None)
    status = fields.get("status")
    if status in ("canceled", "incomplete_expired") and current.get("status") != status:
        fields.setdefault("ended_at", now)
        if status == "canceled":
            fields.setdefault("canceled_at", now)


def _new_items(state: FakeStripe, raw: list[Any]) -> list[dict[str, Any]]:
    return _merge_items(state, [], raw)


def _merge_items(
    state: FakeStripe, current: list[dict[str, Any]], raw: list[Any]
) -> list[dict[str, Any]]:
    items = {item["id"]: dict(item) for item in current}
    for i, given in enumerate(raw):
        if not isinstance(given, dict):
            raise invalid_param(f"items[{i}]", "Invalid hash")
        given = dict(given)
        item_id = given.pop("id", None)
        if item_id is not None and item_id not in items:
            raise resource_missing("subscription_item", item_id, status=400, param="items")
        if to_bool(given.pop("deleted", "false"), f"items[{i}][deleted]"):
            items.pop(item_id or "", None)
            continue
        item = items.get(item_id or "", {})
        if "price" in given:
            price = given.pop("price")
            if price not in state.tables["price"]:
                raise resource_missing("price", str(price), status=400,
                                       param=f"items[{i}][price]")
            item["price"] = price
        elif not item:
            raise invalid_param(f"items[{i}][price]", "Missing required param: items[][price].",
                                code="parameter_missing")
        if "quantity" in given:
            item["quantity"] = to_int(given.pop("quantity"), f"items[{i}][quantity]")
        if "discounts" in given:
            item["discounts"] = _discounts(state, given.pop("discounts"), None) or []
        if "metadata" in given:
            item["metadata"] = metadata(given.pop("metadata"), item.get("metadata"))
        if given:
            key = next(iter(given))
            raise invalid_param(f"items[{i}][{key}]",
                                f"Received unknown parameter: items[{i}][{key}]",
                                code="parameter_unknown")
        if item_id is None:
            item.pop("current_period_start", None)
            item.pop("current_period_end", None)
            items[f"__new_{i}"] = item
        else:
            items[item_id] = item
    return list(items.values())


def _discounts(state: FakeStripe, raw: Any, coupon: Any) -> list[Any] | None:
    """``discounts[i][coupon|discount]`` (or legacy ``coupon``) -> discount specs."""
    if coupon is not None:
        return [{"coupon": _coupon_id(state, coupon)}] if coupon else []
    if raw is None:
        return None
    out: list[Any] = []
    for i, entry in enumerate(to_list(raw, "discounts")):
        if not isinstance(entry, dict):
            raise invalid_param(f"discounts[{i}]", "Invalid hash")
        if entry.get("discount"):
            if entry["discount"] not in state.tables["discount"]:
                raise resource_missing("discount", entry["discount"], status=400,
                                       param=f"discounts[{i}][discount]")
            out.append(entry["discount"])
        elif entry.get("coupon"):
            out.append({"coupon": _coupon_id(state, entry["coupon"])})
        else:
            raise invalid_param(f"discounts[{i}]", "Provide a coupon or discount.")
    return out


def _coupon_id(state: FakeStripe, coupon: Any) -> str:
    if coupon not in state.tables["coupon"]:
        raise resource_missing("coupon", str(coupon), status=400, param="coupon")
    return str(coupon)


# ---- charges, refunds ----------------------------------------------------------------

def create_charge(state: FakeStripe, params: Params) -> StripeObject:
    """``POST /v1/charges``; ``capture=false`` leaves it uncaptured."""
    _require(params, "amount", "currency")
    capture = to_bool(params.pop("capture", "true"), "capture")
    params.pop("source", None)
    fields = _plain("charge", "create", params, {})
    if fields.get("customer") and fields["customer"] not in state.tables["customer"]:
        raise resource_missing("customer", fields["customer"], status=400, param="customer")
    fields.setdefault("status", "succeeded")
    fields["currency"] = fields["currency"].lower()
    if not capture:
        fields["captured"] = False
    return state.put("charge", fields)


def update_charge(state: FakeStripe, charge_id: str, params: Params) -> StripeObject:
    """``POST /v1/charges/{id}``."""
    current = _current(state, "charge", charge_id)
    return state.update("charge", charge_id, _plain("charge", "update", params, current))


def capture_charge(state: FakeStripe, charge_id: str, params: Params) -> StripeObject:
    """``POST /v1/charges/{id}/capture``."""
    current = state.retrieve("charge", charge_id)
    if current["captured"]:
        raise StripeError(400, f"Charge {charge_id} has already been captured.",
                          code="charge_already_captured")
    amount = to_int(params.pop("amount", current["amount"]), "amount")
    return state.update("charge", charge_id, {"captured": True, "amount_captured": amount})


def create_refund(state: FakeStripe, params: Params) -> StripeObject:
    """``POST /v1/refunds``."""
    _require(params, "charge")
    charge_id = _str(params.pop("charge"), "charge")
    amount = params.pop("amount", None)
    reason = params.pop("reason", None)
    fields = _plain("refund", "create", params, {})
    return state.refund(
        charge_id,
        None if amount is None else to_int(amount, "amount"),
        reason=reason,
        metadata=fields.get("metadata"),
    )


def update_refund(state: FakeStripe, refund_id: str, params: Params) -> StripeObject:
    """``POST /v1/refunds/{id}``; test-only ``status=failed`` restores the charge."""
    current = _current(state, "refund", refund_id)
    return state.update("refund", refund_id, _plain("refund", "update", params, current))


# ---- invoices ----------------------------------------------------------------------

def create_invoice(state: FakeStripe, params: Params) -> StripeObject:
    """``POST /v1/invoices`` (minimal); test-only ``lines[i][price|quantity|amount]``."""
    _require(params, "customer")
    subscription = params.pop("subscription", None)
    raw_lines = to_list(params.pop("lines", []), "lines")
    fields = _plain("invoice", "create", params, {})
    customer = state.retrieve("customer", fields["customer"])
    lines = []
    for i, line in enumerate(raw_lines):
        price = state.retrieve("price", str(line.get("price")))
        quantity = to_int(line.get("quantity", 1), f"lines[{i}][quantity]")
        amount = to_int(line.get("amount", (price["unit_amount"] or 0) * quantity),
                        f"lines[{i}][amount]")
        lines.append({"amount": amount, "quantity": quantity, "price": price["id"],
                      "product": price["product"], "subscription": subscription,
                      "id": state.ids.new("line_item")})
    fields.setdefault("currency", customer.get("currency") or "usd")
    fields.setdefault("amount_due", sum(line["amount"] for line in lines))
    fields.setdefault("status", "draft")
    if fields["status"] == "paid":
        fields.setdefault("amount_paid", fields["amount_due"])
    fields.setdefault("amount_paid", 0)
    fields["customer_email"] = customer.get("email")
    fields["lines"] = lines
    return state.put("invoice", fields)


def update_invoice(state: FakeStripe, invoice_id: str, params: Params) -> StripeObject:
    """``POST /v1/invoices/{id}``."""
    current = _current(state, "invoice", invoice_id)
    return state.update("invoice", invoice_id, _plain("invoice", "update", params, current))


def pay_invoice(state: FakeStripe, invoice_id: str, params: Params) -> StripeObject:
    """``POST /v1/invoices/{id}/pay``: marks it paid in full."""
    current = state.retrieve("invoice", invoice_id)
    return state.update("invoice", invoice_id, {
        "status": "paid", "amount_paid": current["amount_due"], "amount_remaining": 0,
        "status_transitions": {**current["status_transitions"], "paid_at": state.clock()},
    })


# ---- catalogue ---------------------------------------------------------------------

def create_product(state: FakeStripe, params: Params) -> StripeObject:
    """``POST /v1/products``."""
    _require(params, "name")
    fields = _plain("product", "create", params, {})
    fields.setdefault("updated", fields.get("created", state.clock()))
    return state.put("product", fields)


def create_price(state: FakeStripe, params: Params) -> StripeObject:
    """``POST /v1/prices`` with recurring, tiers and transform_quantity."""
    _require(params, "currency")
    recurring = params.pop("recurring", None)
    tiers = params.pop("tiers", None)
    transform = params.pop("transform_quantity", None)
    product_data = params.pop("product_data", None)
    fields = _plain("price", "create", params, {})
    if product_data is not None:
        fields["product"] = create_product(state, dict(product_data))["id"]
    _require(fields, "product")
    if fields["product"] not in state.tables["product"]:
        raise resource_missing("product", fields["product"], status=400, param="product")
    if recurring is not None:
        fields["recurring"] = {
            "interval": _choice("day", "week", "month", "year")(recurring.get("interval"),
                                                                 "recurring[interval]"),
            "interval_count": to_int(recurring.get("interval_count", 1),
                                     "recurring[interval_count]"),
            "meter": recurring.get("meter"),
            "usage_type": recurring.get("usage_type", "licensed"),
            "trial_period_days": None,
        }
        fields["type"] = "recurring"
    else:
        fields["recurring"] = None
        fields["type"] = "one_time"
    if tiers is not None:
        fields["billing_scheme"] = "tiered"
        fields["unit_amount"] = None
        fields["tiers"] = [_tier(t, i) for i, t in enumerate(to_list(tiers, "tiers"))]
    if transform is not None:
        fields["transform_quantity"] = {
            "divide_by": to_int(transform.get("divide_by"), "transform_quantity[divide_by]"),
            "round": _choice("up", "down")(transform.get("round"), "transform_quantity[round]"),
        }
    return state.put("price", fields)


def _tier(raw: Any, i: int) -> dict[str, Any]:
    up_to = raw.get("up_to")
    flat = raw.get("flat_amount")
    unit = raw.get("unit_amount")
    flat_i = None if flat is None else to_int(flat, f"tiers[{i}][flat_amount]")
    unit_i = None if unit is None else to_int(unit, f"tiers[{i}][unit_amount]")
    return {
        "flat_amount": flat_i,
        "flat_amount_decimal": None if flat_i is None else str(flat_i),
        "unit_amount": unit_i,
        "unit_amount_decimal": None if unit_i is None else str(unit_i),
        "up_to": None if up_to == "inf" else to_int(up_to, f"tiers[{i}][up_to]"),
    }


def create_coupon(state: FakeStripe, params: Params) -> StripeObject:
    """``POST /v1/coupons``."""
    fields = _plain("coupon", "create", params, {})
    if "percent_off" not in fields and "amount_off" not in fields:
        raise invalid_param("percent_off", "Provide percent_off or amount_off.")
    fields.setdefault("duration", "once")
    return state.put("coupon", fields)


def simple_update(object_type: str) -> Callable[[FakeStripe, str, Params], StripeObject]:
    """An update handler that only sets plain fields."""

    def update(state: FakeStripe, object_id: str, params: Params) -> StripeObject:
        current = _current(state, object_type, object_id)
        return state.update(object_type, object_id, _plain(object_type, "update", params,
                                                           current))

    return update


def _current(state: FakeStripe, object_type: str, object_id: str) -> Mapping[str, Any]:
    rec = state.tables[object_type].get(object_id)
    if rec is None:
        raise resource_missing(object_type, object_id)
    return state.render(object_type, rec)


CREATE: Final[dict[str, Callable[[FakeStripe, Params], StripeObject]]] = {
    "customer": create_customer,
    "subscription": create_subscription,
    "charge": create_charge,
    "refund": create_refund,
    "invoice": create_invoice,
    "product": create_product,
    "price": create_price,
    "coupon": create_coupon,
}
UPDATE: Final[dict[str, Callable[[FakeStripe, str, Params], StripeObject]]] = {
    "customer": update_customer,
    "subscription": update_subscription,
    "charge": update_charge,
    "refund": update_refund,
    "invoice": update_invoice,
    "product": simple_update("product"),
    "price": simple_update("price"),
    "coupon": simple_update("coupon"),
}
ACTIONS: Final[dict[tuple[str, str], Callable[[FakeStripe, str, Params], StripeObject]]] = {
    ("charge", "capture"): capture_charge,
    ("invoice", "pay"): pay_invoice,
    ("subscription", "cancel"): cancel_subscription,
}
