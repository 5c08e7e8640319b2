from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsportal.approvals.services import payload_canonical_json, payload_sha256
from opsportal.core.errors import ValidationFailed

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
payloads = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


@given(payloads)
def test_payload_sha256_ignores_key_order_and_round_trips(payload):
    reordered = dict(reversed(list(payload.items())))

    assert payload_sha256(reordered) == payload_sha256(payload)
    assert payload_sha256(json.loads(payload_canonical_json(payload))) == payload_sha256(payload)


def test_payload_sha256_changes_with_any_value():
    assert payload_sha256({"size": 1}) != payload_sha256({"size": 2})
    assert payload_sha256({"size": 1}) != payload_sha256({"size": "1"})


@pytest.mark.parametrize(
    "payload", [[1, 2], {"x": float("nan")}, {"x": object()}, {"x": "y" * 70_000}]
)
def test_payload_that_is_not_a_small_json_object_is_refused(payload):
    with pytest.raises(ValidationFailed) as exc:
        payload_sha256(payload)

    assert exc.value.field == "payload"
