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
  Fixtures/builtin-renders.json  {name: {"source", "renders": {conversation id: …}}} for the
                               templates of BuiltinChatTemplates.swift (read from the Swift source)

Usage: python3 scripts/gen_chat_template_fixtures.py [--templates DIR]
  --templates DIR   copy *.jinja from DIR (the sdist's models/templates) into the fixtures first
"""
import argparse
import datetime
import glob
import json
import os
import re
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
    "content-parts": conv([
        {"role": "system", "content": [{"type": "text", "text": "You describe things."}]},
        {"role": "user", "content": [{"type": "text", "text": "Describe this in one word:"}, {"type": "text", "text": " a sunset."}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Golden."}]},
        {"role": "user", "content": [{"type": "text", "text": "Another word?"}]},
    ]),
    "tool-args-string": conv([
        {"role": "system", "content": "Answer with tools."},
        {"role": "user", "content": "Search for jinja2."},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "abcDEF123", "type": "function",
             "function": {"name": "search", "arguments": "{\"query\": \"jinja2\", \"limit\": 3}"}}]},
        {"role": "tool", "tool_call_id": "abcDEF123", "name": "search", "content": "Jinja is a templating engine."},
    ], tools=[SEARCH_TOOL]),
    "thinking-enabled": conv([
        {"role": "system", "content": "Think first."},
        {"role": "user", "content": "2+3?"},
        {"role": "assistant", "content": "5", "reasoning_content": "Two plus three is five."},
        {"role": "user", "content": "3+4?"},
    ], enable_thinking=True, reasoning_effort="high"),
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
    ("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d') }}|{{ strftime_now('%A %B %j') }}", {}),
    ("{{ dict(a=1, b='x') }}|{{ namespace(a=1).a }}|{{ range(5) | list }}|{{ range(5, 0, -2) | list }}", {}),
    # scoping, macros and more whitespace
    ("{% macro f() %}{{ x }}{% endmacro %}{% set x = 5 %}{{ f() }}", {}),
    ("{% set x = 1 %}{% macro f() %}{% set x = 2 %}{{ x }}{% endmacro %}{{ f() }}{{ x }}", {}),
    ("{% macro f(a, b=a ~ '!') %}{{ b }}{% endmacro %}{{ f('hi') }}", {}),
    ("{% macro f(a) %}{{ a }}{% endmacro %}{{ f() }}|{{ f(a=3) }}", {}),
    ("{% for m in ms %}{% if m.r == 'u' %}{% set last = m.c %}{% endif %}{% endfor %}[{{ last }}]", {"ms": [{"r": "u", "c": "x"}]}),
    ("{% set ns = namespace(found=false) %}{% for m in ms %}{% if m.r == 'u' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}", {"ms": [{"r": "u"}]}),
    ("{% if true %}{% set y = 'in-if' %}{% endif %}{{ y }}", {}),
    ("{% for x in [1, 2] %}{{ x }}{% endfor %}{{ x }}|{{ loop is defined }}", {}),
    ("\t{%- if true %}\n\tA\n\t{%- endif %}\n", {}),
    ("<{%- raw -%}  {{ x }}  {%- endraw -%}>", {}),
    ("  {# c #}  x\n\t{# d #}\ny", {}),
    ("{% if true %}  {% endif %}|\n  {%- if true %}a{% endif %}", {}),
    ("a\n{%+ if true %}b{% endif %}\n  {%+ if true %}c{% endif %}", {}),
    ("{{ 'a' }}  \n  {{ 'b' }}\n\n", {}),
    ("{% for x in [1,2] -%}\n  {{ x }}\n{%- endfor %}", {}),
    ("{{ messages | map(attribute='content') | join('\\n') }}", {"messages": [{"content": "a"}, {"content": "b"}]}),
    ("{{ (messages | selectattr('role', 'equalto', 'system') | list | first).content }}", {"messages": [{"role": "system", "content": "s"}]}),
    ("{{ messages | selectattr('role', 'in', ['a', 'b']) | list | length }}", {"messages": [{"role": "a"}, {"role": "c"}]}),
    ("{{ tools | selectattr('function.name', 'equalto', 'f') | list | length }}", {"tools": [{"function": {"name": "f"}}]}),
    ("{{ x | tojson(ensure_ascii=true) }}|{{ x | tojson(sort_keys=true) }}", {"x": {"é": "😀", "a": 1}}),
    ("{{ 1.0e16 }} {{ 123456789.123 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1e-300 * 1e-300 }} {{ 2 ** 62 }} {{ 10 / 4 }} {{ 3.0 * 2 }}", {}),
    ("{{ x }} {{ x | tojson }} {{ x | string }} {{ [x] }}", {"x": 3.0}),
    ("{{ x is number }} {{ x * 2 }} {{ x | round(1) }} {{ x | int }}", {"x": 2.75}),
    ("{{ '%s' % x }} {{ '%d items' % 3 }} {{ '%r' % 'q' }} {{ '%5.1f|' % 2.25 }}", {"x": [1, "a"]}),
    ("{{ 'a' if x else 'b' if y else 'c' }}", {"x": False, "y": True}),
    ("{{ not x == 1 }} {{ -2 ** 2 }} {{ 2 * 3 + 1 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 - 2 - 1 }} {{ 2 ** 3 ** 2 }}", {"x": 1}),
    ("{{ 'x' ~ 1 + 2 }} {{ 1 ~ 2 * 3 }} {{ 'a' ~ 'b' | upper }}", {}),
    ("{{ x | default(none) is none }} {{ none | default('z') }} {{ x.y | default('dy') }}", {"x": {}}),
    ("{{ d | dictsort | first }} {{ d.items() | list | length }} {{ d | length }} {{ d.keys() | list }}", {"d": {"b": 1, "a": 2}}),
    ("{% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %}|{% for k, v in d.items() %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("{{ content.split('</think>')[-1].lstrip('\\n') }}|{{ content.split('<think>')[1].split('</think>')[0].strip() }}", {"content": "<think>\nr\n</think>\n\nanswer"}),
    ("{{ '</think>' in content }} {{ content.startswith('<think>') }} {{ content[:7] }} {{ content[-6:] }}", {"content": "<think>x</think>answer"}),
    ("{{ args | tojson }}|{{ args is string }}|{{ args is mapping }}", {"args": "{\"a\": 1}"}),
    ("{% for key, val in params.items() %}{{ key }}={{ val | tojson if val is not string else val }};{% endfor %}", {"params": {"s": "x", "n": 1, "l": [1, 2], "o": {"k": None}}}),
    ("{{ x['a']['b'] }}|{{ x.a.b }}|{{ x.get('a').get('b') }}|{{ x.a['c'] is defined }}", {"x": {"a": {"b": "deep"}}}),
    ("{{ [] | max }}|{{ [] | last }}|{{ [] | first is defined }}", {}),
    ("{{ 'Hello World'.split(' ') | map('lower') | join('_') }}|{{ 'a-b_c d'.replace('-', ' ').replace('_', ' ').title() }}", {}),
    ("{% set parts = [] %}{% for x in [1, 2] %}{% set parts = parts + [x] %}{% endfor %}{{ parts }}", {}),
    ("{% set ns = namespace(parts=[]) %}{% for x in [1, 2] %}{% set ns.parts = ns.parts + [x] %}{% endfor %}{{ ns.parts }}", {}),
    ("{{ ns }}", {}),
    ("{{ messages[0] }}", {"messages": [{"role": "user", "content": "hi", "n": 1.5, "t": True, "x": None}]}),
    ("{{ x | trim | length }} {{ x | wordcount }} {{ x | upper | lower }}", {"x": "  Hello, wörld — two  "}),
    ("{{ '\\u00e9' }}|{{ 'tab\\there' }}|{{ \"dq'sq\" }}|{{ '\\\\' }}", {}),
    ("{{ 5 // 2 }} {{ 5.5 // 2 }} {{ -5.5 % 2 }} {{ 5 % -3 }} {{ 2 ** 0.5 }} {{ 2 ** 62 + (2 ** 62 - 1) }}", {}),
    ("{{ true + 1 }} {{ true and 'x' }} {{ false or none }} {{ 1 if none is none }}", {}),
    ("{{ range(3) | join(',') }} {{ range(10, 0, -3) | list }} {{ range(0) | list }} {{ range(3)[1] }}", {}),
    ("{{ [3, 1, 2] | sort | first }} {{ ['b', 'a'] | sort | join }} {{ [1, 'a'] | sort }}", {}),
    ("{{ x | items | list }}", {"x": [1, 2]}),
    ("{{ (x | selectattr('a') | list)[0].a }} {{ x | rejectattr('a') | list | length }} {{ x | selectattr('a', 'defined') | list | length }}", {"x": [{"a": 1}, {"a": 0}, {}]}),
    ("{{ x | map(attribute='a') | list }}", {"x": [{"a": 1}, {}]}),
    ("{{ x | sum(attribute='n') }} {{ x | map(attribute='n') | max }} {{ x | min(attribute='n') }}", {"x": [{"n": 3}, {"n": 1}]}),
    ("{% for x in items %}{{ loop.index }}/{{ loop.length }}{% if not loop.last %}, {% endif %}{% endfor %}", {"items": ["a", "b", "c"]}),
    ("{% for x in items if x != 'b' %}{{ loop.index }}{{ x }}{{ loop.last }}{% endfor %}", {"items": ["a", "b", "c"]}),
    ("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}|{% for a, b in [(1, 2)] %}{{ a }}{% endfor %}", {}),
    ("{% for x in [1, 2, 3] %}{% for y in [1, 2] %}{% if y == 2 %}{% break %}{% endif %}{{ x }}{{ y }} {% endfor %}{% endfor %}", {}),
    ("{% filter trim %}   padded   {% endfilter %}|{% filter indent(2) %}a\nb{% endfilter %}", {}),
    ("{{ x.content | default('') | trim }}|{{ x.get('content') or '' }}|{{ x.get('missing', none) is none }}", {"x": {"content": None}}),
    ("{{ none | string }} {{ none | trim }} {{ none | length }}", {}),
    ("{{ 3 | string | length }} {{ 3.50 | string }} {{ true | string }} {{ [true, none] | string }}", {}),
    ("{{ 'x' | first }} {{ 'xyz' | last }} {{ 'x' | list }} {{ 'ab' | reverse }} {{ 'ab' | length }}", {}),
    ("{{ 'AbC' is lower }} {{ '' is upper }} {{ 3 is divisibleby(3) }} {{ 3 is even }} {{ 3.0 is odd }}", {}),
    ("{{ x is sequence }} {{ x is iterable }} {{ x is mapping }} {{ x is string }} {{ x is defined }} {{ x is callable }}", {}),
    ("{{ messages | length > 0 and messages[0].role == 'system' }}", {"messages": []}),
    ("{{ raise_exception('line ' ~ 2) if x is not defined }}", {}),
    ("{{ x.y.z }}", {"x": None}),
    ("{{ x[0] }}", {"x": None}),
    ("{{ x + 1 }}", {"x": None}),
    ("{{ x | length }}", {"x": None}),
    ("{% for a in x %}{% endfor %}", {"x": 5}),
    ("{{ x | join(',') }}", {"x": None}),
    ("{{ x | tojson }}", {}),
    ("{{ [1, 2] | tojson(indent=2) }}|{{ {'a': [], 'b': {}} | tojson(indent=2) }}", {}),
    ("{{ '{\"a\": 1}' | tojson }}", {}),
    ("{% macro m() %}<{{ caller() if caller is defined else 'none' }}>{% endmacro %}{{ m() }}{% call m() %}c{% endcall %}", {}),
    ("{% set a = 'x' %}{% set b = a | upper ~ a %}{{ b }}", {}),
    ("{% set a = 1 %}{% with a = 2, b = a %}{{ a }}{{ b }}{% set c = 3 %}{% endwith %}{{ a }}{{ c is defined }}", {}),
    ("{% with %}{% set z = 1 %}{{ z }}{% endwith %}{{ z is defined }}", {}),
    ("{% set a, b = 1, 2 %}{{ a }}{{ b }}", {}),
    ("{% set t = (1, 'x') %}{{ t[1] }}{{ t | length }}{{ t }}", {}),
    ("{{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }} {{ [1, [2]] == [1, [2]] }} {{ 'a' == 'a' ~ '' }}", {}),
    ("{{ 'x' in none }}", {}),
    ("{{ 1 in 'abc' }}", {}),
    ("{{ none in [none] }} {{ 'a' in ['a'] | map('upper') | list }}", {}),
    ("{{ x.strip() }}", {"x": 5}),
    ("{{ 'a'.strip(1) }}", {}),
    ("{{ messages[0]['content'][0]['text'] }}", {"messages": [{"content": [{"type": "text", "text": "T"}]}]}),
    ("{{ '%.0f' % 2.5 }}|{{ '%.3e' % 12345.678 }}|{{ '%x' % 255 }}|{{ '%c' % 65 }}|{{ '%s%%' % 5 }}", {}),
    ("{{ '{:d}'.format(5) }}|{{ '{:05.1f}'.format(3.14159) }}|{{ '{!r}'.format('a') }}|{{ '{0[0]}'.format([1]) if false else 'skip' }}", {}),
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


def builtin_templates():
    """The templates of Sources/ChatTemplates/BuiltinChatTemplates.swift, read out of the Swift source
    (`static let NAME = \"\"\" … \"\"\"`: indentation of the closing quotes removed, `\\\\` unescaped)."""
    path = os.path.join(ROOT, "Sources", "ChatTemplates", "BuiltinChatTemplates.swift")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out = {}
    for m in re.finditer(r'static let (\w+) = """\n(.*?)\n( *)"""', text, re.S):
        name, body, indent = m.group(1), m.group(2), m.group(3)
        lines = [line[len(indent):] if line.startswith(indent) else line.lstrip(" ") for line in body.split("\n")]
        out[name] = "\n".join(lines).replace("\\\\", "\\")
    return out


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
    builtins = {}
    for name, source in builtin_templates().items():
        builtins[name] = {"source": source,
                          "renders": {cid: render(env, source, ctx) for cid, ctx in CONVERSATIONS.items()}}

    def dump(obj, name):
        with open(os.path.join(FIX, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
            f.write("\n")

    dump(CONVERSATIONS, "conversations.json")
    dump({"jinja2": jinja2.__version__, "templates": renders}, "renders.json")
    dump({"jinja2": jinja2.__version__, "cases": snippets}, "snippets.json")
    dump({"jinja2": jinja2.__version__, "templates": builtins}, "builtin-renders.json")
    ok = sum(1 for r in renders.values() for v in r.values() if "output" in v)
    total = sum(len(r) for r in renders.values())
    print(f"{len(renders)} templates, {ok}/{total} renders succeed, {len(snippets)} snippets, {len(builtins)} built-in templates")


if __name__ == "__main__":
    main()
