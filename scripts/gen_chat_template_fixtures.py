#!/usr/bin/env python3
"""Chat-template goldens for Tests/ChatTemplatesTests from Python's jinja2.

Renders every template in Tests/ChatTemplatesTests/Fixtures/templates/ (copied from
`vendor/llama.cpp/models/templates/` of the llama-cpp-python 0.3.36 sdist) with a fixed set
of conversations, in the environment transformers' `apply_chat_template` builds:
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
extensions=[AssistantTracker, loopcontrols]), its `tojson`, and the globals
`raise_exception` and `strftime_now` (a fixed clock so that renders are deterministic).

Writes:
  Fixtures/conversations.json  {id: context}
  Fixtures/renders.json        {template: {conversation id: {"output": s} | {"error": {...}}}}
  Fixtures/snippets.json       [{"template", "context", "output" | "error"}] (unit cases)

Usage: python3 scripts/gen_chat_template_fixtures.py [--templates DIR]
  --templates DIR   copy *.jinja from DIR (the sdist's models/templates) into the fixtures first
"""
import argparse
import datetime
import glob
import json
import os
import shutil

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests", "ChatTemplatesTests", "Fixtures")

# 2024-07-26 12:00:00 UTC: noon, so "%d %b %Y" is the same day in any time zone the tests run in.
FIXED_TIMESTAMP = 1721995200


class AssistantTracker(Extension):
    """transformers' `{% generation %}` block: renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.datetime.fromtimestamp(FIXED_TIMESTAMP).strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(env, source, context):
    try:
        tmpl = env.from_string(source)
    except Exception as e:  # noqa: BLE001 - every failure is a golden
        return {"error": {"type": type(e).__name__, "message": str(e), "phase": "parse"}}
    try:
        return {"output": tmpl.render(**context)}
    except Exception as e:  # noqa: BLE001
        return {"error": {"type": type(e).__name__, "message": str(e), "phase": "render"}}


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "description": "Forecast days"},
            },
            "required": ["city"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web — returns snippets.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "sites": {"type": "array", "items": {"type": "string"}},
                "safe": {"type": "boolean", "default": True},
                "limit": {"type": "number"},
            },
            "required": ["query"],
        },
    },
}

BASE = {"bos_token": "<s>", "eos_token": "</s>"}


def conv(messages, agp=True, **extra):
    c = dict(BASE)
    c["messages"] = messages
    c["add_generation_prompt"] = agp
    c.update(extra)
    return c


CONVERSATIONS = {
    "user-only": conv([{"role": "user", "content": "Hello!"}]),
    "user-only-nogen": conv([{"role": "user", "content": "Hello!"}], agp=False),
    "system-multiturn": conv([
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "2+2 is 4."},
        {"role": "user", "content": "And times 3?"},
    ]),
    "ends-with-assistant": conv([
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue."},
    ], agp=False),
    "unicode": conv([
        {"role": "user", "content": "Grüße! 👋 你好 — «ça va?»\n\tTabs and \"quotes\" and 'apostrophes' \\ backslash"},
        {"role": "assistant", "content": "  Ça va bien 😀, merci.  \n"},
        {"role": "user", "content": "Ελληνικά; 日本語？ emoji: 🇫🇷👩‍👩‍👧"},
    ]),
    "tools-offered": conv([
        {"role": "system", "content": "You can call tools."},
        {"role": "user", "content": "What's the weather in Paris?"},
    ], tools=[WEATHER_TOOL, SEARCH_TOOL]),
    "tool-call-roundtrip": conv([
        {"role": "user", "content": "What's the weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]},
        {"role": "tool", "tool_call_id": "call_1", "name": "get_weather",
         "content": "{\"temperature\": 22, \"sky\": \"sunny\"}"},
        {"role": "assistant", "content": "It is 22 °C and sunny in Paris."},
        {"role": "user", "content": "Thanks. Search for 'Louvre hours'."},
    ], tools=[WEATHER_TOOL, SEARCH_TOOL]),
    "tool-call-pending": conv([
        {"role": "system", "content": "Use tools when needed."},
        {"role": "user", "content": "Weather in Oslo and Rome?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_a", "type": "function",
             "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}},
            {"id": "call_b", "type": "function",
             "function": {"name": "get_weather", "arguments": {"city": "Rome", "days": 2}}}]},
        {"role": "tool", "tool_call_id": "call_a", "name": "get_weather", "content": "-3 C, snow"},
        {"role": "tool", "tool_call_id": "call_b", "name": "get_weather", "content": "18 C, clear"},
    ], tools=[WEATHER_TOOL]),
    "reasoning": conv([
        {"role": "user", "content": "Is 17 prime?"},
        {"role": "assistant", "content": "<think>\nCheck divisors up to 4.\n</think>\n\nYes, 17 is prime.",
         "reasoning_content": "Check divisors up to 4."},
        {"role": "user", "content": "And 21?"},
    ], enable_thinking=False),
    "system-only-gen": conv([{"role": "system", "content": "System prompt only."},
                             {"role": "user", "content": "Hi"}], agp=True,
                            bos_token="<|begin_of_text|>", eos_token="<|eot_id|>"),
    "empty-messages": conv([], agp=True),
    "bad-roles": conv([
        {"role": "user", "content": "one"},
        {"role": "user", "content": "two"},
        {"role": "assistant", "content": "three"},
        {"role": "assistant", "content": "four"},
    ], agp=False),
}

# Small snippets: unit cases for the lexer, parser, filters, tests and methods.
SNIPPETS = [
    # whitespace control, trim_blocks / lstrip_blocks
    ("a\n  {% if true %}\n  b\n  {% endif %}\nc", {}),
    ("a  {%- if true -%}  b  {%- endif -%}  c", {}),
    ("  {%+ if true %}x{% endif %}", {}),
    ("{{ 'x' }}\n{{ 'y' }}\n", {}),
    ("{# comment #}\nA{#- c -#}  B\n  {# c2 #}\nC", {}),
    ("line1\r\nline2\r\n{% if true %}\r\nz\r\n{% endif %}\r\n", {}),
    ("{% raw %}{{ not evaluated }}{% endraw %}", {}),
    ("{{- '  a  ' -}}   \n   b", {}),
    ("x {%- set a = 1 %}  \n  {{ a }}", {}),
    # literals and output formatting
    ("{{ 1 }} {{ 1.0 }} {{ 2.50 }} {{ 1e3 }} {{ 1_000 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }} {{ -0.0 }}", {}),
    ("{{ true }} {{ True }} {{ none }} {{ None }} {{ false }}", {}),
    ("{{ [1, 'a', none, true, 1.5, [2], {'k': 'v'}] }}", {}),
    ("{{ {'a': 1, 'b': \"it's\", 'c': \"say \\\"hi\\\"\"} }}", {}),
    ("{{ ('a', 1) }} {{ (1,) }} {{ () }}", {}),
    ("{{ 'a\\nb\\t\\u00e9\\x41' }}", {}),
    ("{{ 'ab' 'cd' }}", {}),
    ("{{ ['it\\'s', 'q\"', 'both\\'\"', '\\n\\\\'] }}", {}),
    # arithmetic and operators
    ("{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 4 / 2 }}", {}),
    ("{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ 'x' + 'y' }}", {}),
    ("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ [1,2] == [1,2] }}", {}),
    ("{{ 'b' in 'abc' }} {{ 1 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }} {{ not 1 }}", {}),
    ("{{ 0 or 'x' }} {{ 1 and 'y' }} {{ '' or [] }} {{ none and 1 }}", {}),
    ("{{ 'yes' if 1 else 'no' }} [{{ 'yes' if 0 }}] {{ -3 | abs }} {{ -(2 + 3) }}", {}),
    ("{{ 1 + 'a' }}", {}),
    ("{{ 1 / 0 }}", {}),
    # undefined semantics
    ("[{{ missing }}] [{{ missing | default('d') }}] [{{ missing is defined }}] [{{ missing | length }}]", {}),
    ("{% for x in missing %}{{ x }}{% else %}empty{% endfor %}", {}),
    ("{{ missing.attr }}", {}),
    ("{{ obj.nope }}|{{ obj.nope is defined }}|{{ obj['nope'] | default('x') }}", {"obj": {"a": 1}}),
    ("{{ obj.nope.deeper }}", {"obj": {"a": 1}}),
    ("{{ none.attr }}|{{ [1][5] is defined }}", {}),
    ("{{ missing + 1 }}", {}),
    ("{{ missing ~ 'x' }} {{ (missing or 'fallback') }} {{ missing == missing }}", {}),
    ("{% if missing %}a{% elif none %}b{% else %}c{% endif %}", {}),
    # set, namespace, scoping
    ("{% set a = 1 %}{% for i in [1,2] %}{% set a = a + i %}{{ a }}{% endfor %}{{ a }}", {}),
    ("{% set ns = namespace(total=0, names=[]) %}{% for i in [1,2,3] %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}", {}),
    ("{% set x %}  block {{ 1 + 1 }}  {% endset %}[{{ x }}]", {}),
    ("{% set x | upper | trim %}  hi  {% endset %}[{{ x }}]", {}),
    ("{% set a, b = [1, 2] %}{{ a }}{{ b }}{% set c, d = 'xy' %}{{ d }}", {}),
    ("{% set d = {'k': 1} %}{{ d.k }}{{ d['k'] }}", {}),
    # for loops
    ("{% for x in ['a','b','c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}|{% endfor %}", {}),
    ("{% for x in [1,2,3] %}[{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}]{% endfor %}", {}),
    ("{% for x in [1,2,3,4,5] if x is odd %}{{ x }}{{ loop.length }}{% endfor %}", {}),
    ("{% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", {}),
    ("{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}", {}),
    ("{% for x in 'héllo' %}{{ x }}.{% endfor %}", {}),
    ("{% for x in [] %}a{% else %}none{% endfor %}", {}),
    ("{% for x in [1, 2] %}{% for y in 'ab' %}{{ loop.index }}{{ y }}{% endfor %}{{ loop.index }}{% endfor %}", {}),
    ("{% for x in ['a','b','c'] %}{{ loop.cycle('odd', 'even') }}{% endfor %}", {}),
    ("{% for i in range(3) %}{{ i }}{% endfor %}{% for i in range(1, 10, 3) %}{{ i }}{% endfor %}", {}),
    ("{% for item in [{'role':'a'}, {'role':'b'}] %}{{ item.role }}{% endfor %}", {}),
    # macros and call
    ("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='?') }}", {}),
    ("{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}inside{% endcall %}", {}),
    ("{% macro rows(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(v) rows([1,2]) %}<{{ v }}>{% endcall %}", {}),
    ("{% macro f(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1, 2, 3, k=4) }}", {}),
    ("{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("{% filter upper %}hello {{ 'x' }}{% endfilter %}", {}),
    ("{% generation %}gen {{ 1 }}{% endgeneration %}", {}),
    # filters
    ("{{ '  a b  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ [1, 2] | length }}|{{ 'héllo' | length }}|{{ {'a':1} | count }}", {}),
    ("{{ [1, 2, 3] | join(', ') }}|{{ ['a','b'] | join }}|{{ [{'n':'x'},{'n':'y'}] | join('-', attribute='n') }}", {}),
    ("{{ 'aaa' | replace('a', 'b', 2) }}|{{ 'Hello World' | lower }}|{{ 'hello' | upper }}|{{ 'hELLO wORLD' | capitalize }}|{{ 'hello big-world (x)' | title }}", {}),
    ("{{ none | default('d') }}|{{ '' | default('d', true) }}|{{ 0 | d('z', boolean=true) }}|{{ false | default('f') }}", {}),
    ("{{ {'a': 1, 'b': [2]} | items | list }}|{{ [3,1,2] | sort }}|{{ [3,1,2] | sort(reverse=true) }}|{{ ['b','A','a'] | sort }}|{{ ['b','A','a'] | sort(case_sensitive=true) }}", {}),
    ("{{ [{'a': 2}, {'a': 1}] | sort(attribute='a') }}|{{ {'b': 1, 'a': 2} | dictsort }}|{{ {'b': 1, 'a': 2} | dictsort(by='value', reverse=true) }}", {}),
    ("{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }}", {"msgs": [{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}, {"role": "user", "content": "c"}]}),
    ("{{ msgs | rejectattr('role', 'eq', 'user') | list }}|{{ msgs | selectattr('tool') | list | length }}", {"msgs": [{"role": "user", "content": "a"}, {"role": "bot", "tool": True}]}),
    ("{{ [1, 2, 3, 4] | select('odd') | list }}|{{ [0, 1, '', 'x'] | select | list }}|{{ [1, 2, 3] | reject('even') | list }}|{{ ['a', 'b'] | map('upper') | list }}", {}),
    ("{{ [{'x': 1}, {}] | map(attribute='x', default=0) | list }}|{{ [1, 2, 3] | select('in', [2, 3]) | list }}", {}),
    ("{{ [1, 2, 3] | first }}|{{ [1, 2, 3] | last }}|{{ 'abc' | first }}|{{ [] | first }}|{{ 42 | string }}|{{ [1, 'a'] | string }}", {}),
    ("{{ '42' | int }}|{{ '4.7' | int }}|{{ 'x' | int }}|{{ 'x' | int(7) }}|{{ 3.9 | int }}|{{ '0x1A' | int(0, 16) }}|{{ '3.5' | float }}|{{ 2 | float }}|{{ 'abc' | float }}", {}),
    ("{{ 'abc' | list }}|{{ [1, 2, 1, 3, 2] | unique | list }}|{{ ['a', 'A', 'b'] | unique | list }}|{{ -1.5 | abs }}|{{ 2.567 | round(2) }}|{{ 2.5 | round }}|{{ 3.5 | round }}|{{ 2.1 | round(0, 'ceil') }}|{{ 2.9 | round(method='floor') }}", {}),
    ("{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(2, blank=true) }}|{{ 'one two  three' | wordcount }}", {}),
    ("{{ [1, 2, 3, 4, 5] | batch(2) | list }}|{{ [1, 2, 3] | batch(2, 'x') | list }}|{{ [1, 2, 3] | reverse | list }}|{{ 'abc' | reverse }}", {}),
    ("{{ '<b>&\"\\'' | escape }}|{{ '<b>' | safe }}|{{ '<i>' | e }}|{{ [1, 2, 3] | sum }}|{{ [{'v': 1}, {'v': 2}] | sum(attribute='v') }}|{{ [3, 1, 2] | min }}|{{ [3, 1, 2] | max }}|{{ ['b', 'A'] | max }}", {}),
    ("{{ obj | tojson }}|{{ obj | tojson(indent=2) }}", {"obj": {"s": "é\n\"x\"</s>", "n": [1, 2.5, True, None], "e": {}, "l": []}}),
    ("{{ obj | tojson(separators=(',', ':')) }}|{{ 'x' | tojson }}|{{ 1.0 | tojson }}|{{ [] | tojson(indent=4) }}", {"obj": {"a": [1, {"b": 2}]}}),
    ("{{ obj | tojson(indent='\\t') }}", {"obj": {"a": [1, {"b": 2}]}}),
    ("{{ {'a': 1} | list }}|{{ {'a': 1} | first }}|{{ 'x,y' | split(',') if false else 'ok' }}", {}),
    ("{{ '%s-%d' | format('a', 3) }}|{{ '%s and %s' % ('x', 'y') }}|{{ '%.2f' % 3.14159 }}|{{ '%05d|%-3s|%r' % (42, 'a', 'q') }}", {}),
    ("{{ [1, 2, 3] | map('string') | join('+') }}|{{ ['1', '2'] | map('int') | sum }}|{{ 'x' | center(5) }}|", {}),
    ("{{ [{'a': 1}, {'a': 2}, {'a': 1}] | groupby('a') | list }}", {}),
    ("{{ 'Hello' | attr('upper') is defined }}|{{ users | map(attribute='name') | join(', ') }}", {"users": [{"name": "ann"}, {"name": "bo"}]}),
    ("{{ 'hello world foo' | truncate(9) }}|{{ 'abc' | wordwrap(2) }}", {}),
    # tests
    ("{{ x is defined }}{{ x is undefined }}{{ none is none }}{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is iterable }}{{ 1 is number }}{{ 1.5 is number }}{{ true is number }}", {}),
    ("{{ 1 is integer }}{{ 1.0 is integer }}{{ true is boolean }}{{ 1 is boolean }}{{ [] is sequence }}{{ 'x' is sequence }}{{ {} is sequence }}{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 1.5 is float }}", {}),
    ("{{ 1 is equalto 1 }}{{ 'a' is eq 'a' }}{{ 2 is in [1, 2] }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ x is not none }}{{ 'a' is not string }}{{ none is sameas none }}", {"x": 1}),
    ("{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ range is callable }}{{ 5 is gt 3 }}{{ 5 is ge 5 }}{{ 5 is lt 3 }}{{ 5 is le 5 }}{{ 5 is ne 5 }}{{ {} is iterable }}", {}),
    ("{{ 1 is frobnicated }}", {}),
    ("{{ 1 | frobnicate }}", {}),
    # slicing, indexing
    ("{{ 'abcdef'[1:3] }}|{{ 'abcdef'[::-1] }}|{{ 'abcdef'[-2:] }}|{{ [1,2,3,4][::2] }}|{{ [1,2,3][5:] }}|{{ 'héllo'[1] }}|{{ [1,2,3][-1] }}|{{ 'abcdef'[4:1:-1] }}", {}),
    ("{{ messages[0].content }}|{{ messages[1:] | length }}|{{ messages[-1]['role'] }}", {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}),
    ("{{ [1,2,3].0 }}|{{ x[10] }}|", {"x": [1]}),
    # string methods
    ("[{{ '  ab  '.strip() }}][{{ 'xxabxx'.strip('x') }}][{{ '  ab  '.lstrip() }}][{{ '  ab  '.rstrip() }}][{{ '\\n\\nab'.lstrip('\\n') }}][{{ 'ab\\n'.rstrip('\\n') }}]", {}),
    ("{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a.b.c'.rsplit('.', 1) }}|{{ 'x</think>y'.split('</think>')[-1] }}", {}),
    ("{{ 'hello'.startswith('he') }}{{ 'hello'.endswith('lo') }}{{ 'hello'.startswith(('x', 'h')) }}{{ 'hello'.upper() }}{{ 'HeLLo'.lower() }}{{ 'hello world'.title() }}{{ 'hello'.capitalize() }}", {}),
    ("{{ 'aXbX'.replace('X', '-') }}|{{ 'hello'.find('l') }}|{{ 'hello'.find('z') }}|{{ 'hello'.rfind('l') }}|{{ 'hello'.count('l') }}|{{ 'a-b'.index('-') }}", {}),
    ("{{ '{} and {}'.format('a', 'b') }}|{{ '{0}{1}{0}'.format('x', 'y') }}|{{ '{name}!'.format(name='Bo') }}|{{ '{:>5}|{:.2f}'.format('r', 2.5) }}", {}),
    ("{{ ', '.join(['a', 'b']) }}|{{ 'ab\\ncd'.splitlines() }}|{{ '12'.isdigit() }}{{ 'ab'.isalpha() }}{{ '  '.isspace() }}|{{ 'a=b=c'.partition('=') }}|{{ '7'.zfill(3) }}", {}),
    # dict methods
    ("{{ d.get('a') }}|{{ d.get('z') }}|{{ d.get('z', 'dflt') }}|{{ d.keys() | list }}|{{ d.values() | list }}|{{ d.items() | list }}", {"d": {"a": 1, "b": "two"}}),
    ("{{ d.items is defined }}|{{ d.keys is callable }}", {"d": {"items": [1, 2]}}),
    ("{{ d['items'] }}|{{ d.get('items') }}", {"d": {"items": [1, 2]}}),
    # list methods in the immutable sandbox
    ("{% set xs = [1] %}{{ xs.append(2) }}{{ xs }}", {}),
    ("{% set d = {'a': 1} %}{{ d.update({'b': 2}) }}{{ d }}", {}),
    ("{{ [1, 2, 2].count(2) }}|{{ [1, 2].index(2) }}", {}),
    # globals
    ("{{ raise_exception('Custom failure: roles must alternate') }}", {}),
    ("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M') }}|{{ strftime_now('%A %B %j') }}", {}),
    ("{{ dict(a=1, b='x') }}|{{ namespace(a=1).a }}|{{ range(5) | list }}|{{ range(5, 0, -2) | list }}", {}),
    # unsupported and syntax errors
    ("{% include 'other.jinja' %}", {}),
    ("{% extends 'base.jinja' %}", {}),
    ("line1\n{% if true %}\nno end", {}),
    ("{{ 1 + }}", {}),
    ("{% for %}", {}),
    ("{{ 'unterminated }}", {}),
    ("{% endfor %}", {}),
    ("{% do x %}", {}),
    ("{{ x.__class__ }}", {"x": "s"}),
    ("{% set x = 1 %}{% set x.y = 2 %}", {}),
    ("{{ 'abc'.nope }}|{{ 'abc'.nope is defined }}", {}),
    ("{{ missing() }}", {}),
    ("{{ 'a' < 1 }}", {}),
    ("{{ [1, 2] < [1, 3] }} {{ 'a' < 'b' }}", {}),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--templates", help="directory holding the sdist's *.jinja templates to copy in first")
    args = ap.parse_args()
    tdir = os.path.join(FIX, "templates")
    os.makedirs(tdir, exist_ok=True)
    if args.templates:
        for path in sorted(glob.glob(os.path.join(args.templates, "*.jinja"))):
            shutil.copy(path, tdir)
    env = make_env()
    renders = {}
    for path in sorted(glob.glob(os.path.join(tdir, "*.jinja"))):
        name = os.path.basename(path)[: -len(".jinja")]
        with open(path, encoding="utf-8", newline="") as f:
            source = f.read()
        renders[name] = {cid: render(env, source, ctx) for cid, ctx in CONVERSATIONS.items()}
    snippets = [dict(template=t, context=c, **render(env, t, c)) for t, c in SNIPPETS]

    def dump(obj, name):
        with open(os.path.join(FIX, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
            f.write("\n")

    dump(CONVERSATIONS, "conversations.json")
    dump({"jinja2": jinja2.__version__, "templates": renders}, "renders.json")
    dump({"jinja2": jinja2.__version__, "cases": snippets}, "snippets.json")
    ok = sum(1 for r in renders.values() for v in r.values() if "output" in v)
    total = sum(len(r) for r in renders.values())
    print(f"{len(renders)} templates, {ok}/{total} renders succeed, {len(snippets)} snippets")


if __name__ == "__main__":
    main()
