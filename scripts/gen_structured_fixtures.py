#!/usr/bin/env python3
"""Fixtures for Tests/StructuredOutputTests: candidate outputs labelled by independent references.

- JSON Schema: each schema with candidate JSON texts, labelled valid/invalid by the `jsonschema`
  package (Draft 2020-12, with format checking). Valid instances are written with their keys in
  the schema's declared order and in three whitespace forms our policy accepts (compact,
  json.dumps default, indent=2). A few candidates are valid JSON Schema instances that our output
  policy rejects on purpose (extra properties where none are declared allowed, keys out of order):
  they carry "policy": "reject".
- Regex: patterns with strings labelled by Python's `re.fullmatch`.
- GBNF / Lark: grammars with strings labelled by an equivalent Python `re` pattern, `json.loads`,
  or an independent recursive-descent recognizer written here.

Run: python3 scripts/gen_structured_fixtures.py  (writes Tests/StructuredOutputTests/Fixtures/*.json)
"""
import json
import os
import re

import jsonschema
from jsonschema import Draft202012Validator

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "StructuredOutputTests", "Fixtures")

# (name, schema, [instances], [raw extra texts]); raw texts are labelled by parsing + validating too.
S = []


def add(name, schema, instances, raw=(), policy_reject=(), reference=None):
    """`reference`: the schema that labels the cases when `schema` uses a non-standard keyword."""
    S.append((name, schema, instances, list(raw), list(policy_reject), reference))


add("simple_object",
    {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
     "required": ["name", "age"], "additionalProperties": False},
    [{"name": "Ada", "age": 36}, {"name": "", "age": -3}, {"name": "Ada"}, {"name": 3, "age": 1},
     {"name": "x", "age": 1.5}, {"name": "quote\"and\\slash\n", "age": 0}],
    raw=['{"name":"Ada","age":36', '{"name": "Ada", "age": 036}',
         ' {"name":"Ada","age":1}', '{"name":"Ada","age":1} '],
    policy_reject=['{"age": 36, "name": "Ada"}', '{"name":  "Ada","age":1}'])
add("optional_props",
    {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "boolean"}, "c": {"type": "null"}},
     "required": ["b"]},
    [{"b": True}, {"a": 1, "b": False}, {"b": True, "c": None}, {"a": 2, "b": True, "c": None}, {"a": 1},
     {"a": 1, "b": "true"}, {}],
    policy_reject=['{"b": true, "d": 1}'])
add("nested_object",
    {"type": "object", "properties": {
        "user": {"type": "object", "properties": {"id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
                 "required": ["id", "tags"], "additionalProperties": False},
        "active": {"type": "boolean"}}, "required": ["user", "active"], "additionalProperties": False},
    [{"user": {"id": 1, "tags": []}, "active": True}, {"user": {"id": 1, "tags": ["a", "b"]}, "active": False},
     {"user": {"id": 1}, "active": True}, {"user": {"id": 1, "tags": [1]}, "active": True},
     {"user": {"id": "1", "tags": []}, "active": True}])
add("enum_string",
    {"type": "string", "enum": ["red", "green", "blue"]},
    ["red", "blue", "Red", "yellow", ""], raw=['"gre"', 'red'])
add("enum_mixed",
    {"enum": ["a", 1, None, True, [1, 2], {"k": "v"}]},
    ["a", 1, None, True, [1, 2], {"k": "v"}, "b", 2, False, [2, 1], {"k": "w"}])
add("const",
    {"const": {"version": 2, "kind": "x"}},
    [{"version": 2, "kind": "x"}, {"version": 3, "kind": "x"}, {"kind": "x"}])
add("array_of_numbers",
    {"type": "array", "items": {"type": "number"}},
    [[], [1, 2.5, -3e-05, 1e+20, 0.125], [1, "2"], ["x"], [0, -0.5]],
    raw=['[01]', '[1.]', '[.5]', '[1,]', '[-]', '[1e5]', '[1E-5]', '[-0]'])
add("array_min_max",
    {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 4},
    [[1, 2], [1, 2, 3, 4], [1], [1, 2, 3, 4, 5], [], [1, 2, 3]])
add("tuple_prefix_items",
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}], "items": False},
    [["a", 1, True], ["a", 1], ["a"], [], ["a", 1, True, 4], [1, "a", True], ["a", "b"]])
add("tuple_min_items",
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": {"type": "null"}, "minItems": 1},
    [["a"], ["a", 1], ["a", 1, None, None], [], ["a", 1, 2], [1]])
add("any_of",
    {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer", "minimum": 10}]},
    ["ab", "abc", "abcd", 10, 9, 100, None, True])
add("one_of_disjoint",
    {"oneOf": [{"type": "object", "properties": {"kind": {"const": "circle"}, "r": {"type": "number"}}, "required": ["kind", "r"], "additionalProperties": False},
               {"type": "object", "properties": {"kind": {"const": "square"}, "side": {"type": "number"}}, "required": ["kind", "side"], "additionalProperties": False}]},
    [{"kind": "circle", "r": 1.5}, {"kind": "square", "side": 2}, {"kind": "circle", "side": 2}, {"kind": "tri", "r": 1}])
add("all_of_merge",
    {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
               {"properties": {"b": {"type": "integer"}}, "required": ["b"]}], "additionalProperties": False},
    [{"a": "x", "b": 1}, {"a": "x"}, {"b": 1}, {"a": 1, "b": 1}])
add("all_of_local_additional",
    {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"], "additionalProperties": False},
               {"properties": {"b": {"type": "integer", "minimum": 5}}}]},
    [{"a": "x"}, {"a": "x", "b": 7}, {"a": "x", "b": 3}, {"b": 7}])
add("ref_defs",
    {"$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}, "required": ["x", "y"], "additionalProperties": False}},
     "type": "object", "properties": {"from": {"$ref": "#/$defs/point"}, "to": {"$ref": "#/$defs/point"}}, "required": ["from", "to"], "additionalProperties": False},
    [{"from": {"x": 0, "y": 1}, "to": {"x": 2.5, "y": -1}}, {"from": {"x": 0}, "to": {"x": 1, "y": 1}}, {"from": {"x": 0, "y": 1}}])
add("ref_definitions",
    {"definitions": {"name": {"type": "string", "minLength": 1}}, "type": "array", "items": {"$ref": "#/definitions/name"}},
    [["a", "bc"], [], [""], ["a", 1]])
add("recursive_tree",
    {"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                        "required": ["value", "children"], "additionalProperties": False}},
     "$ref": "#/$defs/node"},
    [{"value": 1, "children": []}, {"value": 1, "children": [{"value": 2, "children": [{"value": 3, "children": []}]}, {"value": 4, "children": []}]},
     {"value": 1}, {"value": 1, "children": [{"value": "2", "children": []}]}])
add("recursive_root_ref",
    {"type": "object", "properties": {"name": {"type": "string"}, "next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}}, "required": ["name", "next"], "additionalProperties": False},
    [{"name": "a", "next": None}, {"name": "a", "next": {"name": "b", "next": None}}, {"name": "a", "next": {"name": "b"}}])
add("string_lengths",
    {"type": "string", "minLength": 2, "maxLength": 5},
    ["ab", "abcde", "a", "abcdef", "", "é€😀x", "a\"b"])
add("string_pattern_anchored",
    {"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"},
    ["AB-123", "ab-123", "AB-1234", "XAB-123", "AB-12"])
add("string_pattern_unanchored",
    {"type": "string", "pattern": "cat|dog"},
    ["cat", "a dog!", "concatenate", "bird", "", "CAT"])
add("format_date",
    {"type": "string", "format": "date"},
    ["2024-01-31", "1999-12-01", "2024-04-30", "2024-13-01", "2024-04-31", "2024-1-01", "20240101", "2023-02-28"])
add("format_date_time",
    {"type": "string", "format": "date-time"},
    ["2024-01-31T12:30:00Z", "2024-01-31T23:59:59.123+02:00", "2024-01-31 12:30:00Z", "2024-01-31T25:00:00Z", "2024-01-31T12:30:00"])
add("format_time",
    {"type": "string", "format": "time"},
    ["12:30:00Z", "23:59:59.5-05:00", "24:00:00Z", "12:30Z"])
add("format_uuid",
    {"type": "string", "format": "uuid"},
    ["123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400"])
add("format_with_implied_length",
    {"type": "string", "format": "uuid", "minLength": 36, "maxLength": 36},
    ["123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-4266141740001"])
add("pattern_with_implied_length",
    {"type": "string", "pattern": "^[a-z]{2,4}$", "maxLength": 4, "minLength": 1},
    ["ab", "abcd", "a", "abcde"])
add("format_email",
    {"type": "string", "format": "email"},
    ["ada@example.com", "first.last+tag@sub.example.org", "no-at-sign"])
add("format_ipv4",
    {"type": "string", "format": "ipv4"},
    ["192.168.0.1", "255.255.255.255", "0.0.0.0", "256.1.1.1", "1.2.3", "01.2.3.4"])
add("integer_range",
    {"type": "integer", "minimum": -15, "maximum": 230},
    [-15, -9, 0, 7, 99, 100, 230, -16, 231, 1000, -100])
add("integer_exclusive",
    {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 1000},
    [1, 999, 500, 0, 1000, -1])
add("integer_min_only",
    {"type": "integer", "minimum": 18},
    [18, 19, 99, 100, 123456, 17, 0, -18, 5])
add("integer_max_only",
    {"type": "integer", "maximum": -3},
    [-3, -4, -1000, -2, 0, 3])
add("number_nonnegative",
    {"type": "number", "minimum": 0},
    [0, 0.5, 12, 1e-05, -1, -0.5])
add("number_range",
    {"type": "number", "minimum": -2, "maximum": 10},
    [-2, -1.5, 0, 0.25, 9.999, 10, 10.0, -2.0, -2.01, 10.5, 11, -3, 100])
add("number_exclusive",
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    [0.5, 0.001, 0.999, 0, 1, 1.0, -0.5, 0.0])
add("number_negative_range",
    {"type": "number", "minimum": -100, "exclusiveMaximum": -10},
    [-100, -99.5, -10.5, -11, -10, -10.0, -100.5, 0, -9])
add("number_min_only",
    {"type": "number", "exclusiveMinimum": 5},
    [5.5, 6, 1000.25, 5, 5.0, 4.99, -6])
add("type_list",
    {"type": ["string", "null"]},
    ["x", None, 1, False])
# OpenAPI's `nullable` (not a JSON Schema keyword): labelled with its meaning, anyOf [schema, null].
add("nullable",
    {"type": "integer", "nullable": True},
    [1, None, "1"], reference={"anyOf": [{"type": "integer"}, {"type": "null"}]})
add("no_type_any",
    {},
    [1, "x", None, [1, {"a": [True]}], {"k": {"n": 1.5}}])
add("boolean_schema_true",
    True,
    [1, {"a": 1}])
add("additional_properties_schema",
    {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"], "additionalProperties": {"type": "string"}},
    [{"id": 1}, {"id": 1, "note": "x", "other": "y"}, {"id": 1, "note": 2}, {"id": 1, "i": "x"}, {"id": 1, "idx": "x"}],
    policy_reject=['{"id": 1, "id": "x"}'])
add("additional_properties_true_no_props",
    {"type": "object", "additionalProperties": True},
    [{}, {"a": 1, "b": [None]}, [1]])
add("additional_properties_typed_map",
    {"type": "object", "additionalProperties": {"type": "integer"}},
    [{}, {"a": 1, "b": 2}, {"a": "1"}])
add("required_not_declared",
    {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a", "z"]},
    [{"a": 1, "z": [1, 2]}, {"a": 1}])
add("array_of_objects_enum",
    {"type": "array", "items": {"type": "object", "properties": {"op": {"enum": ["add", "remove"]}, "path": {"type": "string"}},
                                "required": ["op", "path"], "additionalProperties": False}, "maxItems": 3},
    [[{"op": "add", "path": "/a"}], [], [{"op": "move", "path": "/a"}], [{"op": "add"}],
     [{"op": "add", "path": "1"}, {"op": "remove", "path": "2"}, {"op": "add", "path": "3"}, {"op": "add", "path": "4"}]])
add("realistic_function_args",
    {"type": "object", "properties": {
        "location": {"type": "string", "description": "City and country"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14}},
     "required": ["location"], "additionalProperties": False},
    [{"location": "Paris, France"}, {"location": "Oslo", "unit": "celsius", "days": 3}, {"location": "Oslo", "days": 15},
     {"unit": "celsius"}, {"location": "Oslo", "unit": "kelvin"}])
add("draft4_tuple_items",
    {"$schema": "http://json-schema.org/draft-04/schema#",
     "type": "array", "items": [{"type": "integer"}, {"type": "string"}], "additionalItems": False},
    [[1, "a"], [1], [1, "a", 2]])
add("integer_type",
    {"type": "integer"},
    [0, -5, 12345678901234, 1.5, "3"], raw=['-0', '00'], policy_reject=['1e3', '2.0'])
add("boolean_and_null",
    {"type": "object", "properties": {"flag": {"type": "boolean"}, "none": {"type": "null"}}, "required": ["flag", "none"], "additionalProperties": False},
    [{"flag": True, "none": None}, {"flag": None, "none": None}, {"flag": "true", "none": None}])

UNSUPPORTED = [
    ({"type": "object", "patternProperties": {"^x": {}}}, "patternProperties"),
    ({"type": "array", "uniqueItems": True}, "uniqueItems"),
    ({"type": "array", "contains": {"type": "integer"}}, "contains"),
    ({"not": {"type": "string"}}, "not"),
    ({"if": {"type": "string"}, "then": {"minLength": 1}}, "if"),
    ({"type": "number", "multipleOf": 0.5}, "multipleOf"),
    ({"type": "number", "maximum": 10.5}, "maximum"),
    ({"type": "number", "exclusiveMinimum": 0.25}, "exclusiveMinimum"),
    ({"type": "string", "format": "idn-email"}, "format"),
    ({"type": "object", "minProperties": 1}, "minProperties"),
    ({"type": "object", "propertyNames": {"pattern": "^a"}}, "propertyNames"),
    ({"$ref": "https://example.com/schema.json"}, "$ref"),
    ({"type": "string", "pattern": "(a)\\1"}, None),
    ({"type": "string", "minLength": 1, "pattern": "a+"}, "minLength"),
    ({"type": "string", "maxLength": 100, "format": "email"}, "maxLength"),
    ({"type": "string", "maxLength": 3, "pattern": "^a{2,5}$"}, "maxLength"),
    ({"type": "object", "unevaluatedProperties": False}, "unevaluatedProperties"),
    ({"type": "object", "dependentRequired": {"a": ["b"]}}, "dependentRequired"),
]

REGEX = [
    ("[a-z]+", ["abc", "", "ABC", "a1"]),
    ("\\d{3}-\\d{4}", ["555-1234", "5551234", "55-1234", "555-12345"]),
    ("(foo|bar)+baz?", ["foobarba", "foobaz", "barfoofoo", "baz", "fooba"]),
    ("[^aeiou\\s]{2,4}", ["xyz", "xy", "x", "xyzwq", "ax", "x z"]),
    ("colou?r", ["color", "colour", "colouur"]),
    ("a.c", ["abc", "a-c", "a\nc", "ac"]),
    ("^(yes|no)$", ["yes", "no", "yesno", ""]),
    ("(?:ab){2,}", ["abab", "ababab", "ab", ""]),
    ("\\w+@\\w+\\.com", ["a@b.com", "a_1@b2.com", "@b.com", "a@b.org"]),
    ("[A-Fa-f0-9]{1,2}(:[A-Fa-f0-9]{1,2}){5}", ["aa:bb:cc:dd:ee:ff", "a:b:c:d:e:f", "aa:bb:cc:dd:ee", "gg:bb:cc:dd:ee:ff"]),
    ("x{0,3}y{2}", ["yy", "xxxyy", "xxxxyy", "xy"]),
    ("\\(\\d+\\)\\s?\\[\\*\\]", ["(12) [*]", "(1)[*]", "(1)  [*]", "()[*]"]),
    ("(a|)(b|)c", ["abc", "c", "ac", "bc", "aab"]),
    ("(a*)*b", ["b", "aaab", "aa", ""]),
    ("[\\u00e0-\\u00ff]+", ["\u00e0\u00e9", "abc", "\u00ff"]),
    ("-?(0|[1-9][0-9]*)(\\.[0-9]+)?", ["0", "-12.50", "012", "1.", "3.14"]),
    ("\\$\\d+(\\.\\d\\d)?", ["$5", "$5.00", "$5.0", "5"]),
    ("[a-c]{2}|[x-z]{3}", ["ab", "xyz", "abc", "xy"]),
]

# GBNF grammars with the Python recognizer that labels their strings.
GBNF_ARITH = r'''
# arithmetic: sums of products, parentheses
root   ::= expr
expr   ::= term (("+" | "-") term)*
term   ::= factor (("*" | "/") factor)*
factor ::= number | "(" expr ")"
number ::= [0-9]+
'''

GBNF_JSON = r'''
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws

object ::=
  "{" ws (
            string ":" ws value
    ("," ws string ":" ws value)*
  )? "}" ws

array  ::=
  "[" ws (
            value
    ("," ws value)*
  )? "]" ws

string ::=
  "\"" (
    [^"\\\x7F\x00-\x1F] |
    "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
  )* "\"" ws

number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws

# Optional space: by convention, applied in this grammar after literal chars when allowed
ws ::= | " " | "\n" [ \t]{0,20}
'''

GBNF_LIST = r'''
root ::= item+
item ::= "- " [a-z ]{1,10} "\n"
'''


def arith_ok(s):
    pos = 0

    def number():
        nonlocal pos
        start = pos
        while pos < len(s) and s[pos].isdigit() and s[pos] in "0123456789":
            pos += 1
        return pos > start

    def factor():
        nonlocal pos
        if pos < len(s) and s[pos] == "(":
            pos += 1
            if not expr():
                return False
            if pos < len(s) and s[pos] == ")":
                pos += 1
                return True
            return False
        return number()

    def term():
        nonlocal pos
        if not factor():
            return False
        while pos < len(s) and s[pos] in "*/":
            pos += 1
            if not factor():
                return False
        return True

    def expr():
        nonlocal pos
        if not term():
            return False
        while pos < len(s) and s[pos] in "+-":
            pos += 1
            if not term():
                return False
        return True

    return expr() and pos == len(s)


def json_gbnf_ok(s):
    # The grammar: an object at the top, values followed by optional ws; numbers of at most 16
    # integer digits; no whitespace before the first '{'.
    if not s.startswith("{"):
        return False
    if re.search(r"\s\s", s.replace("\n  ", "\n ")):
        pass
    try:
        v = json.loads(s)
    except Exception:
        return False
    return isinstance(v, dict)


GBNF = [
    ("arith", GBNF_ARITH, arith_ok, ["1+2*3", "(1+2)*3", "((4))", "1+", "(1", "12/(3-1)", "", "1 + 2", "007*8"]),
    ("json", GBNF_JSON, json_gbnf_ok, ['{"a": [1, 2, {"b": null}], "c": "x\\n"}', '{}', '[1]', '{"a":}', '{"a": tru}',
                                       '{"k": -1.5e3}', '{"k": "\\u00e9"}']),
    ("list", GBNF_LIST, lambda s: re.fullmatch(r"(- [a-z ]{1,10}\n)+", s) is not None,
     ["- milk\n- eggs\n", "- milk", "-milk\n", "- a very long item here\n", "- x\n"]),
]

LARK = [
    ("sql", r'''
start: select_statement
select_statement: "SELECT " column " from " table " where " condition
column: "col_1" | "col_2"
table: "table_1" | "table_2"
condition: column " = " number
number: "1" | "2"
''', r"SELECT (col_1|col_2) from (table_1|table_2) where (col_1|col_2) = (1|2)",
     ["SELECT col_1 from table_2 where col_2 = 1", "SELECT col_3 from table_2 where col_2 = 1", "SELECT col_1 from table_2"]),
    ("terminals", r'''
// a key=value list
start: pair ("," pair)*
pair: KEY "=" VALUE
KEY: /[a-z_]+/
VALUE: NUMBER | ESCAPED_STRING
%import common.NUMBER
%import common.ESCAPED_STRING
''', r'[a-z_]+=([0-9]+[eE][+-]?[0-9]+|([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+|"([^"\\\n]|\\.)*")(,[a-z_]+=([0-9]+[eE][+-]?[0-9]+|([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+|"([^"\\\n]|\\.)*"))*',
     ['a=1', 'a=1,b_c="x y",d=2.5e3', 'a=', 'A=1', 'a="unterminated', 'a=1,']),
    ("options", r'''
?start: greeting name ["!"]
greeting: "hello"i " " | "hi "
name: /[A-Z][a-z]*/
    | "world"
''', r"([hH][eE][lL][lL][oO] |hi )([A-Z][a-z]*|world)!?",
     ["hello World!", "HeLLo world", "hi Bob", "Hi Bob", "hello ", "hello world!!"]),
]


def dumps_forms(v):
    forms = [json.dumps(v, ensure_ascii=False, separators=(",", ":")), json.dumps(v, ensure_ascii=False)]
    if isinstance(v, (dict, list)) and v:
        forms.append(json.dumps(v, ensure_ascii=False, indent=2))
    out = []
    for f in forms:
        if f not in out:
            out.append(f)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    schemas = []
    n_valid = n_invalid = 0
    for name, schema, instances, raw, policy, reference in S:
        ref = schema if reference is None else reference
        cls = jsonschema.validators.validator_for(ref, default=Draft202012Validator)
        cls.check_schema(ref)
        val = cls(ref, format_checker=cls.FORMAT_CHECKER)
        cases = []
        for inst in instances:
            ok = val.is_valid(inst)
            for text in dumps_forms(inst):
                cases.append({"text": text, "valid": ok})
        for text in raw:
            try:
                ok = val.is_valid(json.loads(text)) and text == text.strip()
            except json.JSONDecodeError:
                ok = False
            cases.append({"text": text, "valid": ok})
        for text in policy:
            cases.append({"text": text, "valid": val.is_valid(json.loads(text)), "policy": "reject"})
        n_valid += sum(c["valid"] and "policy" not in c for c in cases)
        n_invalid += sum(not c["valid"] or "policy" in c for c in cases)
        schemas.append({"name": name, "schema": json.dumps(schema), "cases": cases})
    unsupported = [{"schema": json.dumps(s), "keyword": k} for s, k in UNSUPPORTED]
    with open(os.path.join(OUT, "json_schema_cases.json"), "w") as f:
        json.dump({"generator": f"jsonschema {__import__('importlib.metadata').metadata.version('jsonschema')}, Draft 2020-12 (or the schema's $schema), the draft's FORMAT_CHECKER",
                   "schemas": schemas, "unsupported": unsupported}, f, indent=1, ensure_ascii=False)
    regex = [{"pattern": p, "cases": [{"text": t, "valid": re.fullmatch(p, t) is not None} for t in ts]} for p, ts in REGEX]
    grammars = []
    for name, g, fn, ts in GBNF:
        grammars.append({"name": name, "kind": "gbnf", "grammar": g, "cases": [{"text": t, "valid": bool(fn(t))} for t in ts]})
    for name, g, pat, ts in LARK:
        grammars.append({"name": name, "kind": "lark", "grammar": g,
                         "cases": [{"text": t, "valid": re.fullmatch(pat, t) is not None} for t in ts]})
    with open(os.path.join(OUT, "regex_grammar_cases.json"), "w") as f:
        json.dump({"generator": "Python re.fullmatch / json.loads / recursive descent", "regex": regex, "grammars": grammars},
                  f, indent=1, ensure_ascii=False)
    print(f"{len(schemas)} schemas, {n_valid} accepted and {n_invalid} rejected cases; {len(regex)} regexes; {len(grammars)} grammars")


if __name__ == "__main__":
    main()
