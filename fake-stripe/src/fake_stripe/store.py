"""The fake account's state and its Python API (the HTTP app is a thin layer on it).

Tests craft exact objects with :meth:`FakeStripe.put` / :meth:`FakeStripe.update`
without HTTP; mutations emit Stripe events (for webhook scenarios). All methods are
thread-safe, because the server answers from its own thread.
"""

from __future__ import annotations

import builtins
import functools
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from .connect import READ_WRITE, SCOPES, ConnectedAccounts
from .errors import StripeError, check_limit, invalid_param, resource_missing
from .expansion import expand_paths
from .faults import Faults
from .ids import IdFactory
from .oauth import OAuthApp
from .objects import (
    BASES,
    EXTRA_RECORD_KEYS,
    Record,
    StripeObject,
    build_charge,
    build_customer,
    build_deleted_customer,
    build_discount,
    build_event,
    build_invoice,
    build_plan,
    build_price,
    build_refund,
    build_subscription,
    build_subscription_item,
    list_object,
    merge,
)
from .periods import period_containing
from .requestlog import RequestLog
from .table import CreatedRange, Table, page_ids
from .webhook_endpoints import WebhookEndpoints

if TYPE_CHECKING:
    from .generator import Account

#: Types with a list endpoint, and their URL collection names.
COLLECTIONS: Final[dict[str, str]] = {
    "customer": "customers",
    "subscription": "subscriptions",
    "charge": "charges",
    "invoice": "invoices",
    "price": "prices",
    "product": "products",
    "coupon": "coupons",
    "event": "events",
    "refund": "refunds",
}
STORED_TYPES: Final = (*COLLECTIONS, "discount")

#: Paths under a subscription's items that reach its price: the price is always embedded
#: (so ``items.data.price`` changes nothing), its product and tiers only on request.
ITEM_PRICE_EXPANSIONS: Final = frozenset(
    {"items.data.price", "items.data.price.product", "items.data.price.tiers"}
)
#: Expand paths per type (relative to one object; lists prefix them with ``data.``).
EXPANDABLE: Final[dict[str, frozenset[str]]] = {
    "customer": frozenset(),
    "subscription": frozenset(
        {"discounts", "items.data.discounts", "customer", "latest_invoice",
         *ITEM_PRICE_EXPANSIONS}
    ),
    "charge": frozenset({"customer", "refunds"}),
    "invoice": frozenset({"customer", "discounts"}),
    "price": frozenset({"tiers", "product"}),
    "product": frozenset({"default_price"}),
    "coupon": frozenset(),
    "event": frozenset(),
    "refund": frozenset({"charge"}),
    "discount": frozenset(),
}

SUBSCRIPTION_STATUSES: Final = frozenset(
    {
        "active",
        "trialing",
        "past_due",
        "canceled",
        "unpaid",
        "incomplete",
        "incomplete_expired",
        "paused",
    }
)
ENDED_STATUSES: Final = frozenset({"canceled", "incomplete_expired"})

_INDEXES: Final[dict[str, tuple[str, ...]]] = {
    "subscription": ("customer",),
    "charge": ("customer",),
    "invoice": ("customer",),
    "refund": ("charge",),
    "price": ("product",),
    "event": ("type",),
}
_NO_CREATED: Final = frozenset({"discount"})
_DERIVED_KEYS: Final[dict[str, frozenset[str]]] = {
    "charge": frozenset({"refunds"}),
    "subscription_item": frozenset({"plan", "subscription", "object"}),
}
_EVENT_PREFIX: Final = {"subscription": "customer.subscription"}
#: The secret key a state accepts when it is given none.
DEFAULT_API_KEY: Final = "sk_test_fake"

EventListener = Callable[[StripeObject], None]
#: Called with a connected account's id and an event it emitted, while it is connected.
ConnectListener = Callable[[str, StripeObject], None]


class FakeStripe:
    """A Stripe account in memory: objects, request log, faults and accepted keys.

    As a Connect platform it also holds connected accounts (``connect``, each another
    ``FakeStripe`` with its own objects and events; see :meth:`add_connected_account`)
    and its OAuth application (``oauth``).
    """

    def __init__(
        self,
        *,
        api_keys: Iterable[str] = (DEFAULT_API_KEY,),
        seed: int = 0,
        clock: Callable[[], int] | None = None,
        emit_events: bool = True,
    ) -> None:
        self.api_keys: set[str] = set(api_keys)
        self.seed = seed
        #: ``acct_`` id of a connected account; None for the platform itself.
        self.account_id: str | None = None
        #: What ``GET /v1/account`` answers for the platform's own keys.
        self.platform_account_id = f"acct_platform{seed:010d}"
        self.clock: Callable[[], int] = clock or (lambda: int(time.time()))
        self.emit_events = emit_events
        self.log = RequestLog()
        self.faults = Faults()
        self.ids = IdFactory(f"fake-stripe-{seed}", sequential=True)
        self.tables: dict[str, Table] = {
            t: Table(t, _INDEXES.get(t, ()), "start" if t == "discount" else "created")
            for t in STORED_TYPES
        }
        self.deleted_customers: set[str] = set()
        self._lock = threading.RLock()
        self._price_cache: dict[str, tuple[StripeObject, StripeObject]] = {}
        self._listeners: list[EventListener] = []
        self._connect_listeners: list[ConnectListener] = []
        self.webhooks = WebhookEndpoints(self._lock, lambda: self.clock())
        self.connect = ConnectedAccounts()
        self.oauth = OAuthApp(self)
        self._account_ids = IdFactory(f"fake-stripe-{seed}-accounts")

    # ---- construction -------------------------------------------------------------

    @classmethod
    def seeded(
        cls, customers: int = 1000, seed: int = 0, *, api_keys: Iterable[str] = (DEFAULT_API_KEY,)
    ) -> FakeStripe:
        """A state loaded with :func:`generator.generate_account` data."""
        from .generator import generate_account

        state = cls(api_keys=api_keys, seed=seed)
        state.load(generate_account(customers, seed))
        return state

    def load(self, account: Account) -> None:
        """Bulk-load a generated account (no events are emitted)."""
        from .generator import gc_paused

        with self._lock, gc_paused():
            for object_type, records in account.records().items():
                self.tables[object_type].bulk_load(records)
            for table in self.tables.values():
                table.sorted_keys()
            self._price_cache.clear()

    def add_connected_account(
        self,
        account_id: str | None = None,
        *,
        connected: bool = True,
        scope: str = READ_WRITE,
        api_keys: Iterable[str] = (),
    ) -> FakeStripe:
        """A new, empty account with its own objects and events (fill it with ``put``
        or ``load``). ``connected`` gives the platform ``scope`` access at once, as if
        the account had completed OAuth; otherwise only OAuth connects it.
        ``api_keys`` are the account's own secret keys. Its clock is the platform's.
        """
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {sorted(SCOPES)}, got {scope!r}")
        with self._lock:
            account_id = account_id or self._account_ids.new("account")
            account = FakeStripe(api_keys=api_keys, seed=self.seed,
                                 clock=lambda: self.clock(), emit_events=self.emit_events)
            account.account_id = account_id
            account.ids = IdFactory(f"fake-stripe-{self.seed}-{account_id}", sequential=True)
            self.connect.add(account_id, account)
            account.add_event_listener(functools.partial(self._emit_connected, account_id))
            if connected:
                self.connect.connect(account_id, scope)
            return account

    def add_event_listener(self, listener: EventListener) -> None:
        """Call ``listener(event)`` for every event a mutation emits."""
        self._listeners.append(listener)

    def add_connect_listener(self, listener: ConnectListener) -> None:
        """Call ``listener(account_id, event)`` for every event a connected account emits
        while connected: what Stripe sends to the platform's Connect endpoints."""
        self._connect_listeners.append(listener)

    def remove_connect_listener(self, listener: ConnectListener) -> None:
        with self._lock:
            if listener in self._connect_listeners:
                self._connect_listeners.remove(listener)

    def _emit_connected(self, account_id: str, event: StripeObject) -> None:
        if self.connect.scope(account_id) is None:
            return  # a disconnected account's events no longer reach the platform
        for listener in list(self._connect_listeners):
            listener(account_id, event)

    def remove_event_listener(self, listener: EventListener) -> None:
        """Stop calling ``listener`` (no error if it was not added)."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def webhook_endpoints(self) -> builtins.list[StripeObject]:
        """Every webhook endpoint, newest first, with its signing ``secret``."""
        return self.webhooks.all()

    # ---- reads --------------------------------------------------------------------

    def count(self, object_type: str) -> int:
        """How many (non-deleted) objects of a type exist."""
        return len(self.tables[object_type])

    def record(self, object_type: str, object_id: str) -> Record:
        """The stored compact record (read-only view for tests)."""
        rec = self.tables[object_type].get(object_id)
        if rec is None:
            raise KeyError(object_id)
        return rec

    def retrieve(
        self, object_type: str, object_id: str, expand: Iterable[str] = ()
    ) -> StripeObject:
        """One object as the API returns it; 404 ``resource_missing`` if unknown."""
        paths = expand_paths(EXPANDABLE[object_type], expand, prefix="")
        with self._lock:
            if object_type == "customer" and object_id in self.deleted_customers:
                return build_deleted_customer(object_id)
            rec = self.tables[object_type].get(object_id)
            if rec is None:
                raise resource_missing(object_type, object_id)
            return self.render(object_type, rec, paths)

    def list(
        self,
        object_type: str,
        *,
        limit: int = 10,
        starting_after: str | None = None,
        ending_before: str | None = None,
        created: int | Mapping[str, int] | None = None,
        expand: Iterable[str] = (),
        where: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One list page, newest first, like ``GET /v1/<collection>``.

        ``where`` maps a field to a value or a set of accepted values; indexed fields
        (``customer`` etc.) are looked up, others are scanned in list order.
        """
        check_limit(limit)
        paths = expand_paths(EXPANDABLE[object_type], expand, prefix="data.")
        table = self.tables[object_type]
        with self._lock:
            after = self._cursor(table, starting_after, "starting_after")
            before = self._cursor(table, ending_before, "ending_before")
            keys, match = self._plan(table, where or {})
            ids, has_more = page_ids(
                keys,
                limit=limit,
                created=CreatedRange.parse(created),
                after=after,
                before=before,
                match=match,
            )
            recs = table.records
            data = [self.render(object_type, recs[i], paths) for i in ids]
        return list_object(data, f"/v1/{COLLECTIONS[object_type]}", has_more)

    def iter_records(self, object_type: str) -> builtins.list[Record]:
        """All records of a type, newest first (a snapshot list)."""
        with self._lock:
            return list(self.tables[object_type].newest_first())

    # ---- rendering ----------------------------------------------------------------

    def render(
        self, object_type: str, rec: Record, expand: frozenset[str] = frozenset()
    ) -> StripeObject:
        """Build the full API object for a record."""
        if object_type == "subscription":
            return self._render_subscription(rec, expand)
        if object_type == "customer":
            return build_customer(rec, self._discount(rec.get("discount")))
        if object_type == "charge":
            refunds = [
                build_refund(self.tables["refund"].records[i])
                for i in self.tables["refund"].ids_where("charge", rec["id"], newest_first=True)
            ]
            obj = build_charge(rec, refunds)
            return self._expand_ref(obj, "customer", expand)
        if object_type == "price":
            obj = build_price(rec, with_tiers="tiers" in expand)
            return self._expand_ref(obj, "product", expand)
        if object_type == "invoice":
            obj = build_invoice(rec, rec.get("lines", ()))
            if "discounts" in expand:
                obj["discounts"] = self._discount_list(obj["discounts"])
            return self._expand_ref(obj, "customer", expand)
        if object_type == "refund":
            return self._expand_ref(build_refund(rec), "charge", expand)
        if object_type == "event":
            return build_event(rec)
        if object_type == "discount":
            return build_discount(rec)
        obj = merge(object_type, rec)
        if object_type == "product":
            return self._expand_ref(obj, "default_price", expand, "price")
        return obj

    def _render_subscription(self, rec: Record, expand: frozenset[str]) -> StripeObject:
        sub_id = rec["id"]
        item_discounts = "items.data.discounts" in expand
        price_expand = frozenset(
            p.removeprefix("items.data.price.") for p in expand & ITEM_PRICE_EXPANSIONS
        )
        items = []
        for item in rec.get("items", ()):
            price, plan = self._price_pair(item["price"])
            if price_expand & {"product", "tiers"}:
                price = self.render("price", self.tables["price"].get(item["price"])
                                    or {"id": item["price"]}, price_expand)
            discounts = item.get("discounts") or []
            items.append(
                build_subscription_item(
                    item,
                    subscription_id=sub_id,
                    price=price,
                    plan=plan,
                    discounts=self._discount_list(discounts) if item_discounts else discounts,
                )
            )
        discounts = rec.get("discounts") or []
        if "discounts" in expand:
            discounts = self._discount_list(discounts)
        obj = build_subscription(rec, items=items, discounts=discounts)
        self._expand_ref(obj, "customer", expand)
        return self._expand_ref(obj, "latest_invoice", expand, "invoice")

    def _price_pair(self, price_id: str) -> tuple[StripeObject, StripeObject]:
        pair = self._price_cache.get(price_id)
        if pair is None:
            rec = self.tables["price"].get(price_id) or {"id": price_id}
            price = build_price(rec, with_tiers=False)
            pair = (price, build_plan(price))
            self._price_cache[price_id] = pair
        return pair

    def _discount(self, discount_id: str | None) -> StripeObject | None:
        rec = None if discount_id is None else self.tables["discount"].get(discount_id)
        return None if rec is None else build_discount(rec)

    def _discount_list(self, ids: Iterable[Any]) -> builtins.list[Any]:
        out: builtins.list[Any] = []
        for d in ids:
            obj = self._discount(d) if isinstance(d, str) else d
            if obj is not None:
                out.append(obj)
        return out

    def _expand_ref(
        self, obj: StripeObject, field: str, expand: frozenset[str], ref_type: str | None = None
    ) -> StripeObject:
        ref = obj.get(field)
        if field in expand and isinstance(ref, str):
            ref_type = ref_type or field
            if ref_type == "customer" and ref in self.deleted_customers:
                obj[field] = build_deleted_customer(ref)
            else:
                target = self.tables[ref_type].get(ref)
                if target is not None:
                    obj[field] = self.render(ref_type, target)
        return obj

    # ---- list planning ------------------------------------------------------------

    def _cursor(self, table: Table, object_id: str | None, param: str) -> str | None:
        if object_id is None:
            return None
        key = table.key_of(object_id)
        if key is None:
            raise resource_missing(table.object_type, object_id, status=400, param=param)
        return key

    def _plan(
        self, table: Table, where: Mapping[str, Any]
    ) -> tuple[builtins.list[str], Callable[[str], bool] | None]:
        keys: builtins.list[str] | None = None
        checks: builtins.list[tuple[str, Any, bool, Any]] = []
        base = BASES[table.object_type]
        for field, value in where.items():
            is_set = isinstance(value, (set, frozenset))
            if keys is None and not is_set and table.indexed(field):
                keys = table.keys_where(field, value)
            else:
                checks.append((field, value, is_set, base.get(field)))
        if keys is None:
            keys = table.sorted_keys()
        if not checks:
            return keys, None
        recs = table.records

        def match(object_id: str) -> bool:
            rec = recs[object_id]
            for field, value, is_set, default in checks:
                got = rec.get(field, default)
                if (got not in value) if is_set else (got != value):
                    return False
            return True

        return keys, match

    # ---- writes -------------------------------------------------------------------

    def put(self, object_type: str, obj: Mapping[str, Any]) -> StripeObject:
        """Insert or replace an object from (partial) Stripe-shaped fields.

        Missing ``id``/``created`` are generated. Subscription items may give
        ``price`` as an id or a price dict (stored if new); discounts may be ids or
        dicts (stored). Returns the object as the API would serve it.
        """
        with self._lock:
            rec = self._normalise(object_type, obj, existing=None)
            old = self.tables[object_type].get(rec["id"])
            return self._store(object_type, rec, old)

    def update(self, object_type: str, object_id: str, fields: Mapping[str, Any]) -> StripeObject:
        """Set top-level fields of an existing object (metadata is replaced whole)."""
        with self._lock:
            old = self.tables[object_type].get(object_id)
            if old is None:
                raise resource_missing(object_type, object_id)
            changes = self._normalise(object_type, fields, existing=old)
            return self._store(object_type, {**old, **changes}, old)

    def delete(self, object_type: str, object_id: str) -> StripeObject:
        """Delete an object. A deleted customer's live subscriptions are canceled."""
        with self._lock:
            table = self.tables[object_type]
            if object_id not in table:
                raise resource_missing(object_type, object_id)
            before = self.render(object_type, table.records[object_id])
            if object_type == "customer":
                for sub_id in self.tables["subscription"].ids_where("customer", object_id):
                    sub = self.tables["subscription"].records[sub_id]
                    if sub.get("status", "active") not in ENDED_STATUSES:
                        self.cancel_subscription(sub_id)
                self.deleted_customers.add(object_id)
            table.remove(object_id)
            if object_type == "price":
                self._price_cache.pop(object_id, None)
            self._emit(_event_name(object_type, "deleted"), before)
            if object_type == "customer":
                return build_deleted_customer(object_id)
            return {"deleted": True, "id": object_id, "object": object_type}

    def cancel_subscription(self, subscription_id: str, at: int | None = None) -> StripeObject:
        """Cancel now, as ``DELETE /v1/subscriptions/{id}`` does."""
        now = self.clock() if at is None else at
        with self._lock:
            obj = self.update(
                "subscription",
                subscription_id,
                {"status": "canceled", "canceled_at": now, "ended_at": now},
            )
            return obj

    def refund(
        self,
        charge_id: str,
        amount: int | None = None,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> StripeObject:
        """Refund (part of) a charge: raises ``amount_refunded``; full -> ``refunded``."""
        with self._lock:
            charge_rec = self.tables["charge"].get(charge_id)
            if charge_rec is None:
                raise resource_missing("charge", charge_id, status=400, param="charge")
            charge = self.render("charge", charge_rec)
            if charge["status"] != "succeeded" or not charge["captured"]:
                raise invalid_param(
                    "charge", f"Charge {charge_id} has not been captured or did not succeed."
                )
            remaining = charge["amount_captured"] - charge["amount_refunded"]
            if remaining <= 0:
                raise StripeError(
                    400,
                    f"Charge {charge_id} has already been refunded.",
                    code="charge_already_refunded",
                    param="charge",
                )
            amount = remaining if amount is None else amount
            if amount <= 0 or amount > remaining:
                raise invalid_param(
                    "amount",
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                    f"({remaining})",
                    code="amount_too_large",
                )
            refund = self.put(
                "refund",
                {
                    "amount": amount,
                    "charge": charge_id,
                    "currency": charge["currency"],
                    "customer": charge["customer"],
                    "metadata": dict(metadata or {}),
                    "reason": reason,
                    "status": "succeeded",
                },
            )
            self._adjust_refunded(charge_id, amount)
            return refund

    def _adjust_refunded(self, charge_id: str, delta: int) -> None:
        rec = self.tables["charge"].records[charge_id]
        captured = build_charge(rec, [])["amount_captured"]
        refunded = max(rec.get("amount_refunded", 0) + delta, 0)
        self.update(
            "charge",
            charge_id,
            {"amount_refunded": refunded, "refunded": captured > 0 and refunded >= captured},
        )
        if delta > 0:
            charge = self.render("charge", self.tables["charge"].records[charge_id])
            self._emit("charge.refunded", charge)

    def _store(self, object_type: str, rec: Record, old: Record | None) -> StripeObject:
        before = None if old is None else self.render(object_type, old)
        self.tables[object_type].upsert(rec)
        if object_type == "price":
            self._price_cache.pop(rec["id"], None)
        if object_type == "refund" and old is not None:
            self._refund_transition(old, rec)
        obj = self.render(object_type, rec)
        if before is None:
            self._emit_created(object_type, obj)
        else:
            self._emit_updated(object_type, obj, before)
        return obj

    def _refund_transition(self, old: Record, new: Record) -> None:
        reverted = {"failed", "canceled"}
        was, now = old.get("status", "succeeded"), new.get("status", "succeeded")
        if was not in reverted and now in reverted:
            self._adjust_refunded(new["charge"], -new["amount"])
        elif was in reverted and now not in reverted:
            self._adjust_refunded(new["charge"], new["amount"])

    # ---- normalisation ------------------------------------------------------------

    def _normalise(
        self, object_type: str, obj: Mapping[str, Any], *, existing: Record | None
    ) -> Record:
        if object_type not in self.tables:
            raise ValueError(f"unknown object type {object_type!r}")
        rec: Record = {k: v for k, v in obj.items() if k != "object"}
        for key in _DERIVED_KEYS.get(object_type, ()):
            rec.pop(key, None)
        if object_type == "discount" and "coupon" in rec:
            coupon = rec.pop("coupon")
            coupon_id = coupon["id"] if isinstance(coupon, Mapping) else coupon
            rec["source"] = {"coupon": coupon_id, "type": "coupon"}
        _check_keys(object_type, rec)
        if existing is None:
            if "id" not in rec:
                rec["id"] = self.ids.new(object_type)
            if object_type not in _NO_CREATED and "created" not in rec:
                rec["created"] = self.clock()
            if object_type == "discount" and "start" not in rec:
                rec["start"] = self.clock()
        elif rec.get("id", existing["id"]) != existing["id"]:
            raise ValueError("an object's id cannot change")
        oid = rec.get("id") or (existing or {})["id"]
        if object_type == "customer" and "discount" in rec:
            rec["discount"] = self._discount_ref(rec["discount"], customer=oid)
        elif object_type == "subscription":
            self._normalise_subscription(rec, oid, existing)
        elif object_type == "invoice" and "lines" in rec:
            lines = rec["lines"]
            raw = lines["data"] if isinstance(lines, Mapping) else lines
            rec["lines"] = [dict(x) for x in raw]
        elif object_type == "price" and existing is None and "recurring" not in rec:
            rec.setdefault("type", "recurring")
        return rec

    def _normalise_subscription(self, rec: Record, sub_id: str, existing: Record | None) -> None:
        customer = rec.get("customer") or (existing or {}).get("customer")
        if "discounts" in rec:
            rec["discounts"] = [
                self._discount_ref(d, customer=customer, subscription=sub_id)
                for d in rec["discounts"] or []
            ]
        if "items" not in rec:
            return
        items = rec["items"]
        raw = items["data"] if isinstance(items, Mapping) else items
        created = rec.get("created") or (existing or {}).get("created") or self.clock()
        anchor = rec.get("billing_cycle_anchor") or (existing or {}).get("billing_cycle_anchor")
        out = []
        for given in raw:
            derived = _DERIVED_KEYS["subscription_item"]
            item: Record = {k: v for k, v in given.items() if k not in derived}
            price = item.get("price")
            if isinstance(price, Mapping):
                if price.get("id") not in self.tables["price"]:
                    price = self.put("price", price)
                item["price"] = price["id"]
            elif price not in self.tables["price"]:
                raise resource_missing("price", str(price), status=400, param="items")
            _check_keys("subscription_item", item)
            item.setdefault("id", self.ids.new("subscription_item"))
            item.setdefault("created", created)
            item.setdefault("quantity", 1)
            item.setdefault("metadata", {})
            if "current_period_start" not in item or "current_period_end" not in item:
                recurring = self.tables["price"].records[item["price"]].get("recurring") or {}
                start, end = period_containing(
                    anchor or created,
                    recurring.get("interval", "month"),
                    recurring.get("interval_count", 1),
                    self.clock(),
                )
                item.setdefault("current_period_start", start)
                item.setdefault("current_period_end", end)
            if "discounts" in item:
                item["discounts"] = [
                    self._discount_ref(
                        d, customer=customer, subscription=sub_id, subscription_item=item["id"]
                    )
                    for d in item["discounts"] or []
                ]
            out.append(item)
        rec["items"] = out
        if out and "currency" not in rec and existing is None:
            rec["currency"] = self.tables["price"].records[out[0]["price"]].get("currency", "usd")

    def _discount_ref(self, value: Any, **links: Any) -> str | None:
        """Store a discount given as a dict (or coupon) and return its id."""
        if value is None or isinstance(value, str):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f"bad discount {value!r}")
        data = dict(value)
        for key, link in links.items():
            if link is not None and data.get(key) is None:
                data[key] = link
        if "id" in data and data["id"] in self.tables["discount"]:
            return str(data["id"])
        emit, self.emit_events = self.emit_events, False
        try:
            stored = self.put("discount", data)
        finally:
            self.emit_events = emit
        return str(stored["id"])

    # ---- events -------------------------------------------------------------------

    def _emit_created(self, object_type: str, obj: StripeObject) -> None:
        if object_type == "charge":
            self._emit(f"charge.{obj['status']}", obj)
            return
        self._emit(_event_name(object_type, "created"), obj)
        if object_type == "invoice" and obj["status"] == "paid":
            self._emit("invoice.paid", obj)

    def _emit_updated(self, object_type: str, obj: StripeObject, before: StripeObject) -> None:
        previous = {k: v for k, v in before.items() if obj.get(k) != v}
        if not previous:
            return
        name = _event_name(object_type, "updated")
        if object_type == "subscription" and "status" in previous:
            if obj["status"] == "canceled":
                name = "customer.subscription.deleted"
            elif obj["status"] == "paused":
                name = "customer.subscription.paused"
            elif previous["status"] == "paused":
                name = "customer.subscription.resumed"
        if object_type == "refund" and obj["status"] == "failed":
            name = "refund.failed"
        self._emit(name, obj, previous)
        if object_type == "invoice" and "status" in previous and obj["status"] == "paid":
            self._emit("invoice.paid", obj)

    def _emit(
        self, event_type: str | None, obj: StripeObject, previous: Mapping[str, Any] | None = None
    ) -> None:
        if event_type is None or not self.emit_events:
            return
        data: dict[str, Any] = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = dict(previous)
        rec = {
            "id": self.ids.new("event"),
            "created": self.clock(),
            "data": data,
            "type": event_type,
        }
        self.tables["event"].upsert(rec)
        event = build_event(rec)
        for listener in list(self._listeners):
            listener(event)


def _event_name(object_type: str, action: str) -> str | None:
    if object_type in ("event", "discount"):
        return None
    return f"{_EVENT_PREFIX.get(object_type, object_type)}.{action}"


def _check_keys(object_type: str, rec: Mapping[str, Any]) -> None:
    allowed = BASES[object_type].keys() | EXTRA_RECORD_KEYS.get(object_type, frozenset())
    unknown = rec.keys() - allowed
    if unknown:
        raise ValueError(f"{object_type} has no fields {sorted(unknown)}")
