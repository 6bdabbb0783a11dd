"""Egress: where the product connects on a workspace's word, and how.

`policy` decides which URLs and addresses are allowed (checked when a URL is saved and
again, on the address actually connected to, when it is used); `http` sends one bounded
POST under that policy. Rule webhooks to the host platform are the one such destination.
"""

from revsync.egress.http import MAX_RESPONSE_BYTES, Answer, post
from revsync.egress.policy import Policy, Refused, check

__all__ = ["MAX_RESPONSE_BYTES", "Answer", "Policy", "Refused", "check", "post"]
