"""core.text (the one check of untrusted text) and core.params (query parameters), as units."""

from __future__ import annotations

import json

import pytest

from core.errors import InvalidInput
from core.params import MAX_PARAM_LENGTH, choice_param, int_param
from core.text import (
    MAX_DEPTH,
    MAX_ITEMS,
    UnsafeText,
    check_text,
    check_untrusted,
    decode_frame,
    loads_untrusted,
)

SAFE = ["", "plain", "tab\there", "lines\nand\r\nreturns", "Años, été, 映画, 🎬", "\u200b\ufeff"]
UNSAFE = {
    "nul": "a\x00b",
    "bell": "a\x07",
    "vertical tab": "\x0b",
    "form feed": "\x0c",
    "escape": "\x1b[31m",
    "unit separator": "\x1f",
    "delete": "x\x7f",
    "high surrogate": "\ud800",
    "low surrogate": "x\udfff",
    "escaped byte": "\udced",
}


@pytest.mark.parametrize("value", SAFE)
def test_safe_text_passes(value: str) -> None:
    check_text(value, field="body")
    check_untrusted({"body": value, "list": [value]})


@pytest.mark.parametrize("value", UNSAFE.values(), ids=UNSAFE.keys())
def test_unsafe_text_is_refused_by_name(value: str) -> None:
    with pytest.raises(UnsafeText) as caught:
        check_text(value, field="body")
    assert caught.value.field == "body"
    assert caught.value.code == "invalid_text"
    assert "body" in caught.value.message
    assert isinstance(caught.value, InvalidInput)
    caught.value.message.encode("utf-8")  # the message itself is printable text


def test_the_reason_says_what_is_wrong() -> None:
    with pytest.raises(UnsafeText, match="NUL"):
        check_text("\x00", field="f")
    with pytest.raises(UnsafeText, match="surrogate"):
        check_text("\ud800", field="f")
    with pytest.raises(UnsafeText, match="control"):
        check_text("\x01", field="f")


def test_a_refusal_without_a_field_has_none() -> None:
    with pytest.raises(UnsafeText) as caught:
        check_text("\x00", field="")
    assert caught.value.field is None


def test_nested_values_are_named_by_their_path() -> None:
    value = {"terms": {"lines": [{"description": "ok"}, {"description": "ok"}, {"description": "bad\x00"}]}}
    with pytest.raises(UnsafeText) as caught:
        check_untrusted(value)
    assert caught.value.field == "terms.lines[2].description"


def test_a_root_field_prefixes_the_path() -> None:
    with pytest.raises(UnsafeText) as caught:
        check_untrusted({"a": ["\x00"]}, field="terms")
    assert caught.value.field == "terms.a[0]"


def test_keys_are_checked_and_named_without_their_bad_text() -> None:
    with pytest.raises(UnsafeText) as caught:
        check_untrusted({"terms": {"bad\x00key": 1}})
    assert caught.value.field == "terms.<key>"
    assert "\x00" not in caught.value.message


def test_numbers_booleans_and_null_pass() -> None:
    check_untrusted({"a": 1, "b": 2.5, "c": True, "d": None, "e": [1, [2, [3]]]})


def test_depth_is_limited() -> None:
    ok: object = "leaf"
    for _ in range(MAX_DEPTH):  # MAX_DEPTH containers deep
        ok = [ok]
    check_untrusted(ok)
    too_deep: object = [ok]
    with pytest.raises(UnsafeText) as caught:
        check_untrusted(too_deep)
    assert caught.value.code == "too_deep"


def test_the_number_of_values_is_limited() -> None:
    with pytest.raises(UnsafeText) as caught:
        check_untrusted(list(range(MAX_ITEMS + 1)), field="rows")
    assert caught.value.code == "too_large"
    assert caught.value.field == "rows"


@pytest.mark.parametrize(
    "text,field",
    [
        ('{"body": "\\u0000"}', "body"),
        ('{"body": "\\ud800"}', "body"),
        ('{"body": "x\\udc00y"}', "body"),
        ('{"terms": {"lines": [{"d": "\\u001b"}]}}', "terms.lines[0].d"),
        ('["\\u007f"]', "[0]"),
    ],
)
def test_loads_untrusted_refuses_escaped_unsafe_text(text: str, field: str) -> None:
    with pytest.raises(UnsafeText) as caught:
        loads_untrusted(text)
    assert caught.value.field == field


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000, 200_000])
def test_loads_untrusted_refuses_deep_nesting_without_crashing(depth: int) -> None:
    with pytest.raises(UnsafeText) as caught:
        loads_untrusted("[" * depth + "]" * depth)
    assert caught.value.code == "too_deep"
    with pytest.raises(UnsafeText):
        loads_untrusted('{"a":' * depth + "1" + "}" * depth)


@pytest.mark.parametrize("text", ["", "{", "{'a': 1}", "NaN?", b"\xff\xfe{"])
def test_loads_untrusted_refuses_what_is_not_json(text: str | bytes) -> None:
    with pytest.raises(UnsafeText) as caught:
        loads_untrusted(text)
    assert caught.value.code == "bad_json"


def test_loads_untrusted_names_a_cesu_surrogate_in_utf8_bytes() -> None:
    """json.loads decodes bytes with 'surrogatepass': a CESU-8 surrogate arrives as a lone surrogate."""
    with pytest.raises(UnsafeText) as caught:
        loads_untrusted(b'{"a": "\xed\xa0\x80"}')
    assert caught.value.field == "a"


def test_loads_untrusted_returns_the_value() -> None:
    value = {"body": "hola\n", "n": [1, 2.5, None, True], "é": "ü"}
    assert loads_untrusted(json.dumps(value)) == value
    assert loads_untrusted(json.dumps(value).encode()) == value
    assert decode_frame(json.dumps(value)) == value


def test_decode_frame_refuses_like_loads_untrusted() -> None:
    with pytest.raises(UnsafeText):
        decode_frame('{"type": "message", "body": "\\u0000"}')


# --- core.params --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw,expected", [("1", 1), ("42", 42), ("9223372036854775807", 2**63 - 1)])
def test_int_param_parses_ids(raw: str, expected: int) -> None:
    assert int_param({"session": raw}, "session") == expected


@pytest.mark.parametrize("params", [{}, {"session": ""}, {"session": None}])
def test_int_param_absent_is_none(params: dict[str, object]) -> None:
    assert int_param(params, "session") is None


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "0",
        "-1",
        "1.5",
        "1e3",
        " 1",
        "١",
        "²",
        "9223372036854775808",
        "9" * 100,
        "0x10",
        "1\x00",
        "\ud800",
    ],
)
def test_int_param_refuses_what_is_not_a_positive_id(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        int_param({"session": raw}, "session")
    assert caught.value.field == "session"
    assert caught.value.code in ("invalid_parameter", "invalid_text")


def test_int_param_minimum() -> None:
    assert int_param({"after": "0"}, "after", minimum=0) == 0
    with pytest.raises(InvalidInput):
        int_param({"after": "-1"}, "after", minimum=0)


def test_params_refuse_long_values() -> None:
    with pytest.raises(InvalidInput) as caught:
        choice_param({"status": "a" * (MAX_PARAM_LENGTH + 1)}, "status", ["a"])
    assert caught.value.field == "status"


def test_choice_param() -> None:
    assert choice_param({"status": "pending"}, "status", ["pending", "approved"]) == "pending"
    assert choice_param({}, "status", ["pending"]) is None
    for bad in ("bogus", "PENDING", "pending\x00"):
        with pytest.raises(InvalidInput) as caught:
            choice_param({"status": bad}, "status", ["pending", "approved"])
        assert caught.value.field == "status"
