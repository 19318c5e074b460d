"""Run-time contract checks (SPEC §4.6) against conform.json and small purpose-built contracts."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pirsonal_async.contract import Contract, ContractViolation, InvalidContract, UnknownMethod

CONFORM = json.loads((Path(__file__).parent / "data/barrister/conform.json").read_text())
PERSON = {"personId": "1", "firstName": "Ana", "lastName": "Li"}
REPEAT = {"to_repeat": "yo", "count": 2, "force_uppercase": False}


def field(name: str, type_: str, *, array: bool = False, optional: bool = False) -> Any:
    return {"name": name, "type": type_, "is_array": array, "comment": "", "optional": optional}


def struct(name: str, *fields: Any, extends: str = "") -> Any:
    return {"name": name, "type": "struct", "extends": extends, "comment": "", "fields": [*fields]}


def function(name: str, params: list[tuple[str, str, bool]], returns: Any = None) -> Any:
    element = {
        "name": name,
        "comment": "",
        "params": [{"name": n, "type": t, "is_array": a} for n, t, a in params],
    }
    if returns is not None:
        element["returns"] = returns
    return element


def returns(type_: str, *, array: bool = False, optional: bool = False) -> Any:
    return {"type": type_, "is_array": array, "optional": optional}


def interface(name: str, *functions: Any) -> Any:
    return {"name": name, "type": "interface", "comment": "", "functions": [*functions]}


# A second contract for what conform.json lacks: deep inheritance, recursion, optional arrays,
# a notification, and a dotted interface name.
EXTRA = [
    {"type": "comment", "value": "extra"},
    {"name": "Kind", "type": "enum", "comment": "", "values": [{"value": "a", "comment": ""}]},
    struct("Base", field("id", "string")),
    struct("Mid", field("kind", "Kind"), extends="Base"),
    struct("Leaf", field("tags", "string", array=True, optional=True), extends="Mid"),
    struct("Node", field("value", "int"), field("next", "Node", optional=True)),
    interface(
        "S",
        function("leaf", [("l", "Leaf", False)], returns("Leaf")),
        function("base", [("b", "Base", False)], returns("Base", array=True, optional=True)),
        function("node", [("n", "Node", False)], returns("Node")),
        function("notify", [("message", "string", False)]),
        function("flag", [("f", "bool", False)], returns("float")),
    ),
    interface("x.Dotted", function("f", [], returns("int"))),
    {"type": "meta", "barrister_version": "0.1.7", "date_generated": 1, "checksum": "c"},
]


# Built for each test, not once per module: mutation testing (`make mutate`) credits the calls
# made while building a contract to the test that builds it, and runs only those tests.
@pytest.fixture
def conform() -> Contract:
    return Contract(CONFORM)


@pytest.fixture
def extra() -> Contract:
    return Contract(EXTRA)


ACCEPTED_PARAMS = [
    ("B.echo", ["hello"]),
    ("B.echo", ["hello w\u00f6rld"]),
    ("A.add", [3, 5]),
    ("A.add", [10**23, -1]),
    ("A.sqrt", [9]),
    ("A.sqrt", [25.0]),
    ("A.calc", [[2, 3.0, 6], "add"]),
    ("A.calc", [[], "multiply"]),
    ("A.say_hi", []),
    ("A.repeat", [REPEAT]),
    ("A.repeat_num", [2, 3]),
    ("A.putPerson", [PERSON]),
    ("A.putPerson", [{**PERSON, "email": None}]),
    ("A.putPerson", [{**PERSON, "email": "a@b.c"}]),
]


@pytest.mark.parametrize(("method", "params"), ACCEPTED_PARAMS)
def test_params_that_fit_are_accepted(conform: Contract, method: str, params: list[Any]) -> None:
    conform.validate_params(method, params)


# (method, params, param, path, reason): conform.in's -32602 cases and the reference tests'.
REJECTED_PARAMS = [
    ("A.putPerson", [{**PERSON, "email": 1}], "p", "p.email", "expected string, got int"),
    ("B.echo", [2], "s", "s", "expected string, got int"),
    ("B.echo", [{"hello": "1"}], "s", "s", "expected string, got object"),
    ("A.say_hi", ["blah"], None, "", "expects 0 params, 1 given"),
    ("A.add", [3.3, 5], "a", "a", "expected int, got float"),
    ("A.add", [1.0, 5], "a", "a", "expected int, got float"),
    ("A.add", [True, False], "a", "a", "expected int, got bool"),
    ("A.sqrt", [False], "a", "a", "expected float, got bool"),
    ("A.sqrt", [float("nan")], "a", "a", "nan is not a JSON number"),
    ("A.sqrt", [float("inf")], "a", "a", "inf is not a JSON number"),
    ("A.calc", [[2, 3, "6"], "add"], "nums", "nums[2]", "expected float, got string"),
    ("A.calc", [(2, 3), "add"], "nums", "nums", "expected array of float, got tuple"),
    ("A.calc", [{}, "add"], "nums", "nums", "expected array of float, got object"),
    (
        "A.calc",
        [[2, 3, 3], "subtract"],
        "operation",
        "operation",
        "'subtract' is not a value of enum inc.MathOp (add, multiply)",
    ),
    ("A.calc", [[1], 1], "operation", "operation", "expected string (enum inc.MathOp), got int"),
    ("B.echo", [None], "s", "s", "must not be null (expected string)"),
    ("A.repeat_num", [2, None], "count", "count", "must not be null (expected int)"),
    ("B.echo", [], None, "", "expects 1 param, 0 given"),
    ("A.add", [1], None, "", "expects 2 params, 1 given"),
    ("A.add", {"a": 1, "b": 2}, None, "", "params must be an array, got object"),
    (
        "A.repeat",
        [None],
        "req1",
        "req1",
        "must not be null (expected object (struct RepeatRequest))",
    ),
    ("A.repeat", [1], "req1", "req1", "expected object (struct RepeatRequest), got int"),
    (
        "A.repeat",
        [{**REPEAT, "UserId": 1}],
        "req1",
        "req1.UserId",
        "not a field of struct RepeatRequest",
    ),
    (
        "A.repeat",
        [{"to_repeat": "yo", "count": 2}],
        "req1",
        "req1.force_uppercase",
        "required field of struct RepeatRequest is missing",
    ),
    (
        "A.repeat",
        [{**REPEAT, "count": None}],
        "req1",
        "req1.count",
        "must not be null (expected int)",
    ),
    (
        "A.repeat",
        [{**REPEAT, "force_uppercase": 0}],
        "req1",
        "req1.force_uppercase",
        "expected bool, got int",
    ),
]


@pytest.mark.parametrize(("method", "params", "param", "path", "reason"), REJECTED_PARAMS)
def test_params_that_break_the_contract_are_named(
    conform: Contract, method: str, params: Any, param: str | None, path: str, reason: str
) -> None:
    with pytest.raises(ContractViolation) as caught:
        conform.validate_params(method, params)

    assert (caught.value.param, caught.value.path, caught.value.reason) == (param, path, reason)


def test_violation_message_shows_param_and_path(conform: Contract) -> None:
    with pytest.raises(ContractViolation) as caught:
        conform.validate_params("A.calc", [[2, 3, "6"], "add"])

    assert str(caught.value) == "param 'nums' (nums[2]): expected float, got string"


def test_null_params_count_as_none(conform: Contract) -> None:
    conform.validate_params("A.say_hi", None)


def test_the_values_own_keys_are_reported_before_missing_fields(conform: Contract) -> None:
    with pytest.raises(ContractViolation) as caught:
        conform.validate_params("A.repeat", [{"bogus": 1}])

    assert caught.value.path == "req1.bogus"


ACCEPTED_RESULTS = [
    ("A.add", 8, False),
    ("A.calc", 112, False),
    ("A.sqrt", 3.0, False),
    ("A.say_hi", {"hi": "hi"}, True),
    ("A.repeat", {"status": "ok", "count": 2, "items": ["yo", "yo"]}, True),
    ("A.repeat_num", [2, 2, 2], True),
    ("A.repeat_num", [], True),
    ("B.echo", None, True),
    ("B.echo", "hello", True),
    ("A.say_hi", {"hi": "hi", "added_later": 1}, False),
    # A newer server's enum value: kept by the typed decode, so the check lets it through.
    ("A.repeat", {"status": "hologram", "count": 2, "items": []}, False),
]


@pytest.mark.parametrize(("method", "result", "strict"), ACCEPTED_RESULTS)
def test_results_that_fit_are_accepted(
    conform: Contract, method: str, result: Any, strict: bool
) -> None:
    conform.validate_result(method, result, strict=strict)


# (method, result, strict, path, reason): the reference's -32001 cases among them.
REJECTED_RESULTS = [
    ("A.say_hi", {}, False, "result.hi", "required field of struct HiResponse is missing"),
    (
        "A.repeat",
        {"status": "bad", "count": 1, "items": []},
        True,
        "result.status",
        "'bad' is not a value of enum inc.Status (ok, err)",
    ),
    (
        "A.repeat",
        {"status": 1, "count": 1, "items": []},
        False,
        "result.status",
        "expected string (enum inc.Status), got int",
    ),
    ("A.say_hi", {"hi": 1}, False, "result.hi", "expected string, got int"),
    (
        "A.say_hi",
        {"hi": "hi", "extra": 1},
        True,
        "result.extra",
        "not a field of struct HiResponse",
    ),
    (
        "A.repeat",
        {"count": 1, "items": []},
        False,
        "result.status",
        "required field of struct RepeatResponse is missing",
    ),
    ("A.repeat_num", [1, None], False, "result[1]", "must not be null (expected int)"),
    ("A.repeat_num", None, False, "result", "must not be null (expected array of int)"),
    ("A.add", 8.5, False, "result", "expected int, got float"),
    ("A.add", True, False, "result", "expected int, got bool"),
]


@pytest.mark.parametrize(("method", "result", "strict", "path", "reason"), REJECTED_RESULTS)
def test_results_that_break_the_contract_are_named(
    conform: Contract, method: str, result: Any, strict: bool, path: str, reason: str
) -> None:
    with pytest.raises(ContractViolation) as caught:
        conform.validate_result(method, result, strict=strict)

    assert (caught.value.param, caught.value.path, caught.value.reason) == (None, path, reason)
    assert str(caught.value) == f"{path}: {reason}"


def test_inherited_fields_are_flattened_and_required(extra: Contract) -> None:
    leaf = {"id": "1", "kind": "a", "tags": ["x", None]}
    extra.validate_params("S.leaf", [leaf])
    extra.validate_params("S.leaf", [{"id": "1", "kind": "a"}])

    with pytest.raises(ContractViolation) as caught:
        extra.validate_params("S.leaf", [{"kind": "a"}])

    assert (caught.value.path, caught.value.reason) == (
        "l.id",
        "required field of struct Leaf is missing",
    )


def test_there_is_no_polymorphism(extra: Contract) -> None:
    with pytest.raises(ContractViolation) as caught:
        extra.validate_params("S.base", [{"id": "1", "kind": "a"}])

    assert (caught.value.path, caught.value.reason) == ("b.kind", "not a field of struct Base")


def test_optional_arrays_allow_null_and_null_elements(extra: Contract) -> None:
    extra.validate_result("S.base", None)
    extra.validate_result("S.base", [{"id": "1"}, None])


def test_recursive_structs_are_checked_to_any_depth(extra: Contract) -> None:
    chain: Any = {"value": 0}
    for depth in range(1, 50):
        chain = {"value": depth, "next": chain}
    extra.validate_params("S.node", [chain])

    chain["next"]["next"]["value"] = "x"
    with pytest.raises(ContractViolation) as caught:
        extra.validate_params("S.node", [chain])

    assert caught.value.path == "n.next.next.value"


def test_values_nested_beyond_the_stack_are_a_violation_not_a_crash(extra: Contract) -> None:
    chain: Any = {"value": 0}
    for depth in range(sys.getrecursionlimit() * 2):
        chain = {"value": depth, "next": chain}

    with pytest.raises(ContractViolation) as caught:
        extra.validate_result("S.node", chain)

    assert caught.value.reason == "value is nested too deeply to check"


def test_notification_functions_load_and_return_nothing(extra: Contract) -> None:
    notify = extra.function("S.notify")
    notify.validate_result(None)

    assert not notify.has_result
    with pytest.raises(ContractViolation) as caught:
        notify.validate_result("ok")

    assert caught.value.reason == "expected null (the function returns nothing), got string"


def test_bool_is_not_a_number_even_in_results(extra: Contract) -> None:
    with pytest.raises(ContractViolation):
        extra.validate_result("S.flag", True)


def test_function_lookup_exposes_what_a_server_needs(conform: Contract) -> None:
    add = conform.function("A.add")

    assert (add.interface, add.name, add.method, add.params) == ("A", "add", "A.add", ("a", "b"))
    assert add.has_result
    assert [f.method for f in conform][:2] == ["A.add", "A.calc"]
    assert conform.checksum == "4e80517459336f80a3ce47d9343f635b"
    assert conform.idl is CONFORM


def test_functions_carry_their_signature_and_comment(conform: Contract, extra: Contract) -> None:
    calc = conform.function("A.calc")
    echo = conform.function("B.echo")
    notify = extra.function("S.notify")

    assert [(t.type, t.is_array, t.optional) for t in calc.param_types] == [
        ("float", True, False),
        ("inc.MathOp", False, False),
    ]
    assert calc.returns is not None
    assert (calc.returns.type, calc.returns.is_array, calc.returns.optional) == (
        "float",
        False,
        False,
    )
    assert calc.comment.startswith("performs the given operation against \nall the values")
    assert echo.returns is not None
    assert echo.returns.optional
    assert repr(echo.returns) == "TypeRef('string', is_array=False, optional=True)"
    assert (notify.returns, notify.comment) == (None, "")
    assert len(notify.param_types) == len(notify.params) == 1


def test_a_missing_or_odd_function_comment_is_empty_not_an_error() -> None:
    idl = [
        interface(
            "I",
            {"name": "bare", "params": []},
            {"name": "odd", "params": [], "comment": 7},
        )
    ]

    assert [f.comment for f in Contract(idl)] == ["", ""]


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        ("nodot", "method 'nodot' is not of the form 'Interface.function'"),
        ("C.add", "unknown interface 'C' in method 'C.add'"),
        ("A.nope", "interface 'A' has no function 'nope'"),
        ("A.add.x", "interface 'A' has no function 'add.x'"),
        ("x.Dotted.f", "unknown interface 'x' in method 'x.Dotted.f'"),
        ("barrister-idl", "method 'barrister-idl' is not of the form 'Interface.function'"),
    ],
)
def test_unknown_methods_are_named(
    conform: Contract, extra: Contract, method: str, reason: str
) -> None:
    # Split at the first dot, as the reference does: a dotted interface is unreachable.
    with pytest.raises(UnknownMethod) as caught:
        (extra if method.startswith("x.") else conform).validate_params(method, [])

    assert str(caught.value) == reason
    assert isinstance(caught.value, ContractViolation)


@pytest.mark.parametrize(
    ("idl", "message"),
    [
        ({}, "an IDL JSON contract is an array, got object"),
        ([1], "contract element 0: expected an object, got int"),
        ([{"name": "X"}], "contract element 0: missing 'type'"),
        (
            [struct("A", field("b", "Missing"))],
            "struct 'A' field 'b' uses undefined type 'Missing'",
        ),
        ([struct("A", field("b", "int"), extends="P")], "struct 'A' extends undefined struct 'P'"),
        (
            [
                struct("A", field("a", "int"), extends="B"),
                struct("B", field("b", "int"), extends="A"),
            ],
            "struct 'A' extends itself: A -> B -> A",
        ),
        (
            [{"name": "A", "type": "struct", "fields": {}}],
            "struct 'A': 'fields' must be list, got object",
        ),
        (
            [interface("I", function("f", [("p", "I", False)], returns("int")))],
            "function I.f param 'p' uses undefined type 'I'",
        ),
        (
            [interface("I", function("f", [], returns("Nope")))],
            "function I.f returns uses undefined type 'Nope'",
        ),
        (
            [
                interface(
                    "I", {"name": "f", "params": [{"name": "p", "type": "int", "is_array": 1}]}
                )
            ],
            "function I.f param: 'is_array' must be bool, got int",
        ),
    ],
)
def test_malformed_contracts_are_rejected_with_the_culprit_named(idl: Any, message: str) -> None:
    with pytest.raises(InvalidContract) as caught:
        Contract(idl)

    assert str(caught.value) == message


def test_violations_pickle() -> None:
    violation = ContractViolation("expected int, got string", "p.x", param="p")
    restored = pickle.loads(pickle.dumps(violation))

    assert (restored.reason, restored.path, restored.param) == (
        "expected int, got string",
        "p.x",
        "p",
    )
    assert str(restored) == str(violation)


def test_the_runtime_contract_does_not_depend_on_codegen() -> None:
    probe = (
        "import sys, pirsonal_async.contract\n"
        "generator = {'codegen', 'pirsonal_async_codegen', 'lark', 'jinja2'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in generator))"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout

    assert output.strip() == "[]"


def enum_contract(count: int) -> Contract:
    values = [{"value": f"v{n}", "comment": ""} for n in range(count)]
    return Contract(
        [
            {"name": "E", "type": "enum", "comment": "", "values": values},
            interface("I", function("f", [("e", "E", False)])),
        ]
    )


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (10, "v0, v1, v2, v3, v4, v5, v6, v7, v8, v9"),
        (11, "v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, ..."),
    ],
)
def test_an_enum_mismatch_lists_up_to_ten_values(count: int, shown: str) -> None:
    value = "x" * 50

    with pytest.raises(ContractViolation) as caught:
        enum_contract(count).validate_params("I.f", [value])

    assert caught.value.reason == f"{'x' * 40!r} is not a value of enum E ({shown})"


def test_a_field_without_is_array_or_optional_is_a_required_scalar() -> None:
    element = struct("S", {"name": "n", "type": "int"})
    contract = Contract([element, interface("I", function("f", [("s", "S", False)]))])

    contract.validate_params("I.f", [{"n": 1}])
    for bad in ({"n": [1]}, {}, {"n": None}):
        with pytest.raises(ContractViolation):
            contract.validate_params("I.f", [bad])


@pytest.mark.parametrize(("value", "kind"), [([1], "array"), ({"a": 1}, "object")])
def test_a_mismatch_names_the_json_kind_it_got(conform: Contract, value: Any, kind: str) -> None:
    with pytest.raises(ContractViolation) as caught:
        conform.validate_params("A.add", [value, 1])

    assert caught.value.reason == f"expected int, got {kind}"


def test_a_null_contract_element_is_named_as_null() -> None:
    with pytest.raises(InvalidContract) as caught:
        Contract([None])

    assert str(caught.value) == "contract element 0: expected an object, got null"
