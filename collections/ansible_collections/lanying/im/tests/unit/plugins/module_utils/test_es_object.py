"""es_object: read, compare, write only the difference, for each kind of object."""

from __future__ import annotations

import pytest

from ansible_collections.lanying.im.plugins.module_utils._es_object import (
    EsClient, EsObjectError, auth_headers, ensure_object, up_to_date)
from ansible_collections.lanying.im.tests.unit.plugins.module_utils.matrix_exchange import Exchange

ES = "https://es.test:9200"
TEMPLATE = {"index_patterns": ["lanying-*"], "priority": 100,
            "template": {"settings": {"number_of_replicas": 0, "index": {"refresh_interval": "5s"}},
                         "mappings": {"properties": {"component": {"type": "keyword"}}}}}
# What Elasticsearch answers for TEMPLATE: settings nested under index, numbers as strings.
TEMPLATE_AS_STORED = {"index_templates": [{"name": "lanying", "index_template": {
    "index_patterns": ["lanying-*"], "priority": 100, "composed_of": [],
    "template": {"settings": {"index": {"number_of_replicas": "0", "refresh_interval": "5s"}},
                 "mappings": {"properties": {"component": {"type": "keyword"}}}}}}]}
POLICY = {"policy": {"phases": {"delete": {"min_age": "30d", "actions": {"delete": {}}}}}}


def run(script, kind, name, body, state="present", check_mode=False):
    cluster = Exchange(script, base=ES)
    result = ensure_object(EsClient(ES + "/", cluster, auth_headers("u", "p")), kind, name, body, state, check_mode)
    assert cluster.done(), "requests not made: %s" % cluster.script
    return result, cluster


def test_creates_a_missing_template():
    result, cluster = run([("GET", "/_index_template/lanying", 404, {"error": "missing"}),
                           ("PUT", "/_index_template/lanying", 200, {"acknowledged": True})],
                          "index_template", "lanying", TEMPLATE)
    assert result["changed"] and result["diff"] == {"before": {}, "after": TEMPLATE}
    assert cluster.sent[1]["body"] == TEMPLATE
    assert cluster.sent[0]["headers"] == {"Authorization": "Basic dTpw"}


def test_a_template_as_the_server_stores_it_is_up_to_date():
    result, _cluster = run([("GET", "/_index_template/lanying", 200, TEMPLATE_AS_STORED)],
                           "index_template", "lanying", TEMPLATE)
    assert not result["changed"]


def test_a_changed_setting_is_written():
    body = dict(TEMPLATE, template=dict(TEMPLATE["template"], settings={"number_of_replicas": 1}))
    result, cluster = run([("GET", "/_index_template/lanying", 200, TEMPLATE_AS_STORED),
                           ("PUT", "/_index_template/lanying", 200, {"acknowledged": True})],
                          "index_template", "lanying", body)
    assert result["changed"] and cluster.sent[-1]["body"] == body


def test_check_mode_writes_nothing():
    result, cluster = run([("GET", "/_index_template/lanying", 404, None)], "index_template", "lanying", TEMPLATE,
                          check_mode=True)
    assert result["changed"] and [s["method"] for s in cluster.sent] == ["GET"]


def test_ilm_policy_compared_without_the_servers_fields():
    stored = {"lanying-logs": {"version": 3, "modified_date": "2026-11-30T00:00:00Z",
                               "policy": {"phases": {"delete": {"min_age": "30d", "actions": {"delete": {"delete_searchable_snapshot": True}}}}}}}
    result, _cluster = run([("GET", "/_ilm/policy/lanying-logs", 200, stored)], "ilm_policy", "lanying-logs", POLICY)
    assert not result["changed"]


def test_ism_policy_update_names_the_version_it_replaces():
    stored = {"_id": "lanying-logs", "_seq_no": 7, "_primary_term": 2,
              "policy": {"policy_id": "lanying-logs", "states": [{"name": "hot"}]}}
    body = {"policy": {"states": [{"name": "hot"}, {"name": "delete"}]}}
    result, cluster = run([("GET", "/_plugins/_ism/policies/lanying-logs", 200, stored),
                           ("PUT", "/_plugins/_ism/policies/lanying-logs?if_seq_no=7&if_primary_term=2", 200, {})],
                          "ism_policy", "lanying-logs", body)
    assert result["changed"]


def test_ingest_pipeline_absent_deletes_only_what_exists():
    stored = {"lanying": {"processors": []}}
    result, _cluster = run([("GET", "/_ingest/pipeline/lanying", 200, stored),
                            ("DELETE", "/_ingest/pipeline/lanying", 200, {"acknowledged": True})],
                           "ingest_pipeline", "lanying", None, state="absent")
    assert result["changed"]
    result, _cluster = run([("GET", "/_ingest/pipeline/lanying", 404, {})], "ingest_pipeline", "lanying", None,
                           state="absent")
    assert not result["changed"]


def test_a_refused_write_says_why():
    with pytest.raises(EsObjectError, match=r"PUT /_index_template/lanying answered HTTP 400: bad mapping"):
        run([("GET", "/_index_template/lanying", 404, None),
             ("PUT", "/_index_template/lanying", 400, {"error": {"reason": "bad mapping"}})],
            "index_template", "lanying", TEMPLATE)


def test_a_refused_read_says_why():
    with pytest.raises(EsObjectError, match=r"HTTP 401"):
        run([("GET", "/_index_template/lanying", 401, {"error": "unauthorized"})], "index_template", "lanying", TEMPLATE)


def test_a_policy_body_without_policy_is_refused():
    with pytest.raises(EsObjectError, match="policy"):
        run([("GET", "/_ilm/policy/x", 404, None)], "ilm_policy", "x", {"phases": {}})


@pytest.mark.parametrize("have, want, same", [
    ({"a": 1, "b": 2}, {"a": 1}, True),
    ({"a": [1, 2]}, {"a": [1]}, False),
    ({"settings": {"index": {"number_of_shards": "1"}}}, {"settings": {"number_of_shards": 1}}, True),
    ({"settings": {"index.number_of_shards": "2"}}, {"settings": {"index": {"number_of_shards": 1}}}, False),
    ({"settings": {"index": {"hidden": "true"}}}, {"settings": {"hidden": True}}, True),
])
def test_comparison(have, want, same):
    assert up_to_date("index_template", have, want) is same


def test_api_key_header():
    assert auth_headers(api_key="abc") == {"Authorization": "ApiKey abc"}
    assert auth_headers() == {}
