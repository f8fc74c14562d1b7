"""Unit tests of :mod:`pip_accel.plan.document`: the envelope of stored and shared plans."""

import json

from pip_accel.plan.document import ENVELOPE, checksum, matches, plan_document


def test_a_document_carries_its_wheels_checksum_and_extra_fields_in_order() -> None:
    """The envelope's fields, the kind's extra ones before the wheels, the checksum last."""
    wheels = [{"name": "a", "version": "1.0"}]
    document = plan_document(2, "key", wheels, pip_accel="1.2.0")
    assert list(document) == ["format", "key", "pip_accel", "wheels", "sha256"]
    assert set(plan_document(2, "key", wheels)) == ENVELOPE
    assert document["sha256"] == checksum(json.loads(json.dumps(wheels)))


def test_a_document_matches_its_key_and_wheels_only() -> None:
    """Another key, or wheels changed after the checksum, do not match."""
    document = plan_document(1, "key", [{"name": "a"}])
    assert matches(document, "key")
    assert not matches(document, "other")
    assert not matches({**document, "wheels": [{"name": "b"}]}, "key")
