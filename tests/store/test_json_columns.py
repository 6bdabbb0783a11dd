"""JSON columns are written with orjson; what they store must read back as the stdlib
encoder would have written it."""

from __future__ import annotations

import json

from revsync.store.db import _dump_json


def test_json_columns_are_written_as_the_stdlib_encoder_writes_them() -> None:
    value = {"counts": {1: 2, "b": [1.5, None, True]}, "email": "ünï@example.test"}
    assert json.loads(_dump_json(value)) == json.loads(json.dumps(value))
