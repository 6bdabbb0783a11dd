"""The change feed: every change of a subscriber's Stripe-managed values, in order.

Each recorded transition (`revsync.subscribers.changes`) is an entry; its position is
its id, handed out in commit order (`order`), so a reader that has seen position P has
seen every entry before it. Readers page it with a cursor (`entries`), the platform's
own workers receive it through a sink activity (`sink`), and entries older than the
retention are forgotten (`retention`).
"""
