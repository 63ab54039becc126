"""LogQL building: user text can only ever be a string literal, regexes are RE2, time stays out."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from analyzer.errors import InvalidParameter
from analyzer.model import Query, Severity
from analyzer.sources import logql

# A LogQL/Go double-quoted literal: no raw quote, backslash only as an escape, no raw newline
ONE_LITERAL = re.compile(r'"(?:[^"\\\n\r]|\\.)*"')


def assert_single_literal(text: str, literal: str) -> None:
    assert ONE_LITERAL.fullmatch(literal), literal
    # the escapes quote() emits are the JSON subset of Go's, so JSON reads the value back
    assert json.loads(literal) == text


def test_quote_wraps_plain_text_in_double_quotes() -> None:
    assert logql.quote("timeout") == '"timeout"'


def test_quote_escapes_double_quotes() -> None:
    assert_single_literal('say "hi"', logql.quote('say "hi"'))


def test_quote_escapes_backslashes() -> None:
    literal = logql.quote("C:\\temp\\")
    assert literal == '"C:\\\\temp\\\\"'
    assert_single_literal("C:\\temp\\", literal)


def test_quote_escapes_newlines_and_control_characters() -> None:
    text = "line one\nline two\r\t\x00\x1b\x7f"
    literal = logql.quote(text)
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in literal)
    assert_single_literal(text, literal)


def test_quote_keeps_an_injection_attempt_inside_one_literal() -> None:
    attack = 'abc"} |= "x'
    literal = logql.quote(attack)
    assert_single_literal(attack, literal)
    query = f"{{service=\"api\"}} | correlation_id={literal}"
    # the closing brace of the attack is inside the literal, so the selector still ends first
    assert query.index("}") == len('{service="api"')


def test_quote_round_trips_every_ascii_character_and_unicode() -> None:
    text = "".join(chr(c) for c in range(128)) + "é漢字🙂"
    assert_single_literal(text, logql.quote(text))


def test_quote_replaces_lone_surrogates_go_cannot_read() -> None:
    literal = logql.quote("a\ud800b")
    assert literal == '"a\ufffdb"'


@pytest.mark.parametrize(
    "pattern", [r"timeout|refused", r"\d{3} ms", r"(?i)error", r"(?P<code>\d+)", r"[+*]+", r"a*?b"]
)
def test_validate_regex_accepts_re2_patterns(pattern: str) -> None:
    logql.validate_regex(pattern)


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(unclosed", "missing )"),
        (r"(a)\1", "backreference"),
        (r"(?P<x>a)(?P=x)", "named backreference"),
        (r"foo(?=bar)", "lookahead"),
        (r"foo(?!bar)", "negative lookahead"),
        (r"(?<=a)b", "lookbehind"),
        (r"(?<!a)b", "negative lookbehind"),
        (r"a++", "possessive"),
        (r"a{2}+", "possessive"),
        (r"(?>ab)", "atomic"),
        (r"(?x) a b", "inline flag"),
    ],
)
def test_validate_regex_rejects_what_python_or_re2_refuses(pattern: str, why: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        logql.validate_regex(pattern)
    assert caught.value.code == "INVALID_REGEX"
    assert caught.value.status == 400
    assert why in caught.value.message


def test_selector_for_one_service_is_an_equality_matcher() -> None:
    assert logql.selector(["api"]) == '{service="api"}'


def test_selector_for_several_services_escapes_regex_characters() -> None:
    text = logql.selector(["api", "web.v2", "a|b"])
    assert text == '{service=~"api|web\\\\.v2|a\\\\|b"}'
    pattern = json.loads(text[len("{service=~") : -1])
    assert re.fullmatch(pattern, "web.v2") and not re.fullmatch(pattern, "webXv2")


def test_selector_without_services_is_one_loki_accepts() -> None:
    # error_empty_selector.json: Loki refuses a selector whose matchers all accept ""
    recorded = json.loads(
        (Path(__file__).parent.parent / "fixtures/loki/error_empty_selector.json").read_text()
    )
    assert recorded["status"] == 400
    assert logql.selector([]) != recorded["request"]["params"]["query"]
    assert logql.selector([]) == '{service=~".+"}'


def test_selector_quotes_extra_label_values() -> None:
    assert logql.selector(["api"], env='dev"}') == '{service="api", env="dev\\"}"}'


def test_selector_refuses_a_label_name_that_is_not_an_identifier() -> None:
    with pytest.raises(InvalidParameter):
        logql.selector([], **{"env} |= x": "dev"})


def test_stream_selector_names_one_stream_exactly() -> None:
    assert logql.stream_selector({"service": "api", "env": "dev"}) == '{env="dev", service="api"}'


def test_log_query_puts_ids_after_the_selector_as_label_filters() -> None:
    text = logql.log_query(Query(services=["api"], correlation_id="corr-27209bdf1c11"))
    assert text == '{service="api"} | correlation_id="corr-27209bdf1c11"'


def test_log_query_keeps_an_id_injection_inside_its_literal() -> None:
    text = logql.log_query(Query(correlation_id='abc"} |= "x'))
    selector, _, rest = text.partition("} ")
    assert selector == '{service=~".+"'
    assert rest == '| correlation_id="abc\\"} |= \\"x"'


def test_log_query_filters_severity_on_detected_level_or_level_label() -> None:
    text = logql.log_query(Query(severity_threshold="error"))
    filter_ = text.removeprefix('{service=~".+"} ')
    detected, _, level = filter_.removeprefix("| detected_level=~").partition(" or level=~")
    assert detected == level
    pattern = json.loads(detected)
    assert re.fullmatch(pattern, "error") and re.fullmatch(pattern, "ERROR")
    assert re.fullmatch(pattern, "critical") and not re.fullmatch(pattern, "warn")


def test_log_query_adds_no_level_filter_at_or_below_info() -> None:
    assert logql.level_filter(Severity.INFO) is None
    assert logql.log_query(Query(severity_threshold="debug")) == '{service=~".+"}'


def test_log_query_excludes_patterns_as_negative_line_filters() -> None:
    text = logql.log_query(Query(services=["api"], exclude_patterns=[r'health "\d+"']))
    assert text == '{service="api"} !~ "health \\"\\\\d+\\""'


def test_log_query_refuses_an_exclude_pattern_re2_cannot_run() -> None:
    with pytest.raises(InvalidParameter) as caught:
        logql.log_query(Query(exclude_patterns=["foo(?=bar)"]))
    assert caught.value.code == "INVALID_REGEX"


def test_log_query_never_contains_time_or_a_json_stage() -> None:
    query = Query(
        services=["api"],
        start="1795495475720334129",
        end="1795499075720334129",
        time_range="2h",
        conversation_id="conv-ae340454cac5",
        severity_threshold="warn",
    )
    text = logql.log_query(query)
    assert "1795" not in text and "2h" not in text
    assert "| json" not in text


def test_metric_query_counts_lines_by_service() -> None:
    text = logql.count_by_service(Query(services=["api"]), "5m")
    assert text == 'sum by (service) (count_over_time({service="api"} [5m]))'


def test_rate_by_service_uses_the_query_filters() -> None:
    text = logql.rate_by_service(Query(severity_threshold="error"), "1m")
    assert text.startswith('sum by (service) (rate({service=~".+"} | detected_level=~')
    assert text.endswith(" [1m]))")


def test_tokens_by_model_unwraps_the_json_field_and_drops_parse_errors() -> None:
    text = logql.tokens_by_model(Query(services=["anythingllm"]), "30m")
    assert text == (
        'sum by (model) (sum_over_time({service="anythingllm"} | json | unwrap tokens_used'
        ' | __error__="" [30m]))'
    )


def test_quantile_query_places_the_quantile_first() -> None:
    text = logql.unwrap_query(
        "quantile_over_time", '{service="api"}', "duration", "10m", by=["service"], quantile=0.95
    )
    assert text.startswith("sum by (service) (quantile_over_time(0.95, {service=\"api\"}")


@pytest.mark.parametrize(
    "call",
    [
        lambda: logql.metric_query("count_over_time", "{a=\"b\"}", "5 minutes"),
        lambda: logql.metric_query("drop_table", "{a=\"b\"}", "5m"),
        lambda: logql.metric_query("rate", "{a=\"b\"}", "5m", by=["service) or vector(1"]),
        lambda: logql.unwrap_query("sum_over_time", "{a=\"b\"}", "tokens | x", "5m"),
    ],
)
def test_metric_queries_refuse_unchecked_names_and_ranges(call: Callable[[], str]) -> None:
    with pytest.raises(InvalidParameter):
        call()


def test_built_queries_parse_with_grafanas_logql_grammar() -> None:
    from analyzer.lint.grammar import GrammarUnavailable, check_logql

    hostile = Query(
        services=["api", "web.v2"],
        correlation_id='abc"} |= "x',
        user_id="u\\1",
        severity_threshold="warn",
        exclude_patterns=[r'health "\d+"'],
    )
    expressions = [
        logql.log_query(hostile),
        logql.log_query(Query()),
        logql.count_by_service(hostile, "5m"),
        logql.rate_by_service(Query(severity_threshold="error")),
        logql.tokens_by_model(hostile),
        logql.unwrap_query(
            "quantile_over_time", logql.selector(["api"]), "duration", "10m", quantile=0.95
        ),
        logql.stream_selector({"service": "api", "env": "dev\n"}),
    ]
    try:
        results = check_logql(expressions)
    except GrammarUnavailable as exc:
        pytest.skip(exc.message)
    assert [(r.expr, r.errors) for r in results] == [(e, []) for e in expressions]
