"""The explanation as text, for `starter.py explain EMAIL`."""

from __future__ import annotations

from typing import Any


def lines(email: str, found: dict[str, Any]) -> list[str]:
    now, stored = found["derived_now"], found["stored"]
    out = [f"{email} (subscriber {found['subscriber_id']})",
           f"  stored:      MRR {stored['mrr'] or '-'}  LTV {stored['ltv'] or '-'}  "
           f"tags {', '.join(stored['tags']) or '-'}",
           f"  derived now: MRR {_money(now['mrr'])}  LTV {_money(now['ltv'])}  "
           f"tags {', '.join(now['tags']) or '-'}"]
    policy = now["policy"]
    rates = ", ".join(f"{c}={r}" for c, r in policy["fx_rates"].items()) or "none"
    out.append(f"  policy: MRR counts {', '.join(policy['mrr_statuses'])}; reporting in "
               f"{policy['reporting_currency']}; FX {rates}; products "
               f"{', '.join(policy['products']) or 'all'}")
    for customer in now["customers"]:
        out.append(f"  customer {customer['id']}: {customer['eligibility'].replace('_', ' ')}")
        out += _subscriptions(customer["subscriptions"])
        out += _charges(customer["charges"])
    out.append(f"  = MRR {_money(now['mrr'])} (each subscription's part, in cents, adds up "
               f"to it); LTV {_money(now['ltv'])} likewise")
    out.append("  transitions (newest first):" if found["transitions"] else
               "  no transitions recorded")
    for t in found["transitions"]:
        change = " ".join([*(f"+{x}" for x in t["tags_added"]),
                           *(f"-{x}" for x in t["tags_removed"])]) or "no tag change"
        out.append(f"    #{t['id']} {t['at'][:19]} {t['source']}: {change}; MRR "
                   f"{t['mrr'][0] or '-'} -> {t['mrr'][1] or '-'}, LTV {t['ltv'][0] or '-'} "
                   f"-> {t['ltv'][1] or '-'}")
        quiet = "starting values, fire nothing" if t["silent"] else ""
        for fire in t["fires"] or [{"automation": "nothing", "action": "", "note": quiet}]:
            named = f" ({fire['rule']})" if fire.get("rule") else ""
            out.append(f"      {fire['automation']}{named} {fire['action']}"
                       + (f": {fire['note']}" if fire["note"] else ""))
        for step in t["rule_steps"]:
            out.append(f"      rule-{step['rule_id']} step {step['step'] + 1}: "
                       f"{step['outcome']}")
    if found["unsubscribed"]:
        out.append("  unsubscribed: automations send this subscriber no email")
    return out


def _subscriptions(subscriptions: list[dict[str, Any]]) -> list[str]:
    out = []
    for sub in subscriptions:
        counted = "counted" if sub["counted"] else "not counted (status policy)"
        tags = f"; tags {', '.join(sub['tags'])}" if sub["tags"] else ""
        out.append(f"    subscription {sub['id']} {sub['status']}, {counted}{tags}")
        for item in sub["items"]:
            out.append(f"      item {item['item']} price {item['price']}: {item['per_period']} "
                       f"{item['currency']} per {item['interval']} (quantity and tiers "
                       f"applied) = {item['monthly']} {item['currency']} a month")
        if sub["counted"]:
            monthly = ", ".join(f"{a} {c}" for c, a in sub["monthly"].items()) or "0"
            part = sub["converted"]
            shown = _part(part) if part else "left out (no FX rate)"
            out.append(f"      after subscription discounts: {monthly} a month -> {shown}")
    return out


def _charges(charges: list[dict[str, Any]]) -> list[str]:
    out = []
    for ch in charges:
        part = ch["converted"]
        counts = _part(part) if part else "counts 0"
        out.append(f"    charge {ch['id']} {ch['status']}: captured {ch['captured']} minus "
                   f"refunded {ch['refunded']} ({ch['currency']}, minor units) -> {counts}")
    return out


def _part(part: dict[str, Any]) -> str:
    exact, cents = str(part["exact"]), str(part["cents"])
    return cents + (f" (exactly {exact})" if "/" in exact else "")


def _money(value: str | None) -> str:
    return "-" if value is None else value
