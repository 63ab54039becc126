"""The ruler API: YAML rule listings, and a local rule store that cannot be written over HTTP."""

from __future__ import annotations

import pytest

from analyzer.errors import AnalyzerError, BadQuery
from analyzer.sources.loki import LokiSource

RULES = "/loki/api/v1/rules"


def push_recorded(recorded_loki, name: str, tenant: str | None = None) -> None:
    request = recorded_loki.exchange(name)["request"]
    namespace = request["path"].rsplit("/", 1)[1]
    with LokiSource(recorded_loki.url, retries=2, backoff=0.01) as loki:
        loki.push_rule_group(namespace, request["body"], tenant=tenant)


def test_list_rules_parses_the_yaml_answer(recorded_loki) -> None:
    with LokiSource(recorded_loki.url) as loki:
        rules = loki.list_rules()
    [group] = rules["llm-rules.yaml"]
    assert group["name"] == "llm-service-errors"
    assert [r.get("record") or r.get("alert") for r in group["rules"]] == [
        "service:log_errors:rate1m",
        "HighLogErrorCount",
    ]


def test_list_rules_with_a_broken_rule_file_is_a_bad_query(recorded_loki) -> None:
    # one bad file in the rule directory turns the whole listing into a 400 with Loki's reason
    recorded = recorded_loki.exchange("ruler_invalid_rule_file")["loki_rules_while_broken"]
    recorded_loki.script(RULES, recorded)
    with LokiSource(recorded_loki.url) as loki, pytest.raises(BadQuery) as caught:
        loki.list_rules()
    assert caught.value.message == recorded["body"].strip()


def test_pushing_to_a_local_rule_store_is_ruler_read_only(recorded_loki) -> None:
    with pytest.raises(AnalyzerError) as caught:
        push_recorded(recorded_loki, "rules_push_local_storage")
    assert caught.value.status == 409
    assert caught.value.code == "RULER_READ_ONLY"
    assert "SetRuleGroup unsupported in rule local store" in caught.value.message
    assert "ruler_rules/fake/" in caught.value.suggestion


def test_the_read_only_suggestion_names_the_callers_tenant(recorded_loki) -> None:
    with pytest.raises(AnalyzerError) as caught:
        push_recorded(recorded_loki, "rules_push_local_storage", tenant="team-a")
    assert "ruler_rules/team-a/" in caught.value.suggestion
    assert recorded_loki.requests[-1].headers["x-scope-orgid"] == "team-a"


def test_a_rule_push_is_sent_as_yaml_and_not_repeated(recorded_loki) -> None:
    with pytest.raises(AnalyzerError):
        push_recorded(recorded_loki, "rules_push_local_storage")
    [sent] = recorded_loki.requests
    assert sent.method == "POST" and sent.headers["content-type"] == "application/yaml"


@pytest.mark.parametrize("name", ["rules_push_invalid_logql", "rules_push_invalid_yaml"])
def test_a_rule_group_loki_rejects_is_a_bad_query_with_lokis_message(recorded_loki, name) -> None:
    with pytest.raises(BadQuery) as caught:
        push_recorded(recorded_loki, name)
    assert caught.value.message == recorded_loki.exchange(name)["body"].strip()
