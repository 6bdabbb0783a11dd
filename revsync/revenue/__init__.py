"""Revenue definitions (docs/revenue-definitions.md) as pure functions over plain Stripe JSON.

No I/O: the sync reads Stripe objects from mirror tables, groups customers by
:func:`normalize_email`, and calls :func:`derive_subscriber` per subscriber.

Counting what is left out, instead of raising:

- ``Derived.unconverted``: currency -> number of non-zero amounts (a subscription's
  MRR in that currency, or a charge's net) left out for lack of an FX rate.
- ``Derived.anomalies``: reason -> count of inputs that contributed 0 because they
  could not be read: ``price_missing``, ``price_not_recurring``, ``unknown_interval``,
  ``currency_missing``, ``quantity_missing`` (read as 1, still counted),
  ``invalid_quantity``, ``invalid_transform_quantity``, ``tiers_missing`` (tiered
  price whose tiers are neither on the item nor in ``Catalogue.prices``),
  ``invalid_tiers``, ``amount_missing``, ``invalid_amount``, ``negative_amount``,
  ``items_missing``, ``invalid_subscription``, ``invalid_charge``,
  ``discount_not_expanded`` (discount id string: ignored), ``invalid_discount``,
  ``coupon_unknown``, ``invalid_coupon``, ``coupon_currency_mismatch``,
  ``discount_interval_unknown``.
"""

from .derive import derive_subscriber, normalize_email, subscriber_revenue_exact
from .discounts import apply_coupon, apply_discounts, discount_is_current, resolve_coupon
from .eligibility import (
    ABANDONED_CHECKOUT,
    DELETED_CUSTOMER,
    ELIGIBLE,
    NEVER_PAID,
    PRODUCT_NOT_SELECTED,
    eligibility,
    has_paid,
)
from .ltv import customer_ltv, customer_ltv_exact
from .metadata import RESERVED_ATTRIBUTES, attribute_name, carried_metadata
from .model import (
    STRIPE_TAGS,
    Catalogue,
    CustomerFacts,
    Derived,
    RevenuePolicy,
    StripeObject,
    Tally,
)
from .money import RevenueError
from .mrr import (
    customer_mrr,
    customer_mrr_exact,
    subscription_mrr,
    subscription_mrr_exact,
)
from .pricing import ItemCharge, item_amount_per_period, monthly_factor
from .tags import LIVE_STATUSES, customer_tags, subscription_tags
from .tiers import tiered_amount, transformed_quantity

__all__ = [
    "ABANDONED_CHECKOUT",
    "DELETED_CUSTOMER",
    "ELIGIBLE",
    "LIVE_STATUSES",
    "NEVER_PAID",
    "PRODUCT_NOT_SELECTED",
    "RESERVED_ATTRIBUTES",
    "STRIPE_TAGS",
    "Catalogue",
    "CustomerFacts",
    "Derived",
    "ItemCharge",
    "RevenueError",
    "RevenuePolicy",
    "StripeObject",
    "Tally",
    "apply_coupon",
    "apply_discounts",
    "attribute_name",
    "carried_metadata",
    "customer_ltv",
    "customer_ltv_exact",
    "customer_mrr",
    "customer_mrr_exact",
    "customer_tags",
    "derive_subscriber",
    "discount_is_current",
    "eligibility",
    "has_paid",
    "item_amount_per_period",
    "monthly_factor",
    "normalize_email",
    "resolve_coupon",
    "subscriber_revenue_exact",
    "subscription_mrr",
    "subscription_mrr_exact",
    "subscription_tags",
    "tiered_amount",
    "transformed_quantity",
]
