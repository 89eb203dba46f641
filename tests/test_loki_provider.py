"""Loki provider: every recorded Loki fixture parses, errors are surfaced verbatim, the tenant
header is sent, and one tail connection yields messages and typed ends."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from loki_helpers import LokiStub, loki_stub

from sre_cockpit.core.models import LogLine
from sre_cockpit.providers.base import LogSource, ProviderError, RateLimitedError
from sre_cockpit.providers.loki import (
    LogQLError,
    LokiOptions,
    LokiProvider,
    TailClosed,
    TailRefused,
    error_text,
    parse_labels,
    parse_ns,
    parse_query_response,
    parse_streams,
    parse_tail_message,
    status_error,
)


def load(fixtures_dir: Path, name: str) -> object:
    return json.loads((fixtures_dir / name).read_text())


def provider(url: str, **opts: object) -> LokiProvider:
    options = LokiOptions.model_validate({"type": "loki", "url": url, **opts})
    return LokiProvider("loki", options)


def test_streams_fixture(fixtures_dir: Path) -> None:
    lines = parse_query_response(load(fixtures_dir, "loki_query_range_streams.json"))
    assert [(ln.ts_ns, ln.line) for ln in lines] == [
        (123456789012345, "super line"), (123456789012346, "super line with labels")]
    assert dict(lines[0].labels) == {"test": "test"}
    assert dict(lines[0].metadata) == {}


def test_categorized_fixture_third_element(fixtures_dir: Path) -> None:
    lines = parse_query_response(load(fixtures_dir, "loki_query_range_streams_categorized.json"))
    assert [ln.line for ln in lines] == ["super line", "super line with labels",
                                         "super line with labels msg=text"]
    assert dict(lines[0].metadata) == {}
    assert dict(lines[1].metadata) == {"foo": "a", "bar": "b"}
    assert dict(lines[2].metadata) == {"foo": "a", "bar": "b", "msg": "text"}


@pytest.mark.parametrize("name", ["loki_query_range_streams_categorized_sm.json",
                                  "loki_query_range_streams_uncategorized_sm.json"])
def test_structured_metadata_fixtures(fixtures_dir: Path, name: str) -> None:
    lines = parse_query_response(load(fixtures_dir, name))
    assert len(lines) == 3
    assert {ln.ts_ns for ln in lines} == {123456789012346}
    by_line = {ln.line: ln for ln in lines}
    assert dict(by_line["super line with labels msg=baz"].labels)["msg"] == "baz"
    # three distinct streams at the same ns: the dedupe key keeps them apart
    assert len({ln.dedupe_key for ln in lines}) == 3


def test_tail_fixtures(fixtures_dir: Path) -> None:
    msg = parse_tail_message((fixtures_dir / "loki_tail_message.json").read_text())
    assert [ln.line for ln in msg.lines] == ["super line", "super line with labels"]
    assert msg.dropped == 1
    cat = parse_tail_message((fixtures_dir / "loki_tail_message_categorized.json").read_bytes())
    assert len(cat.lines) == 3 and cat.dropped == 1
    assert dict(cat.lines[2].metadata) == {"foo": "a", "bar": "b", "msg": "text"}
    compact = parse_tail_message('{"streams":[{"stream":{"app":"foo"},"values":[["1","foobar"]]}],'
                                 '"dropped_entries":null}')
    assert compact.dropped == 0 and compact.lines[0].line == "foobar"


def test_push_fixtures_parse_as_streams(fixtures_dir: Path) -> None:
    plain = parse_streams(load(fixtures_dir, "loki_push_request.json")["streams"])  # type: ignore[index]
    assert plain == [LogLine(1570818238000000000, "fizzbuzz", plain[0].labels)]
    meta = parse_streams(
        load(fixtures_dir, "loki_push_request_structured_metadata.json")["streams"])  # type: ignore[index]
    assert dict(meta[0].metadata) == {"a": "a", "b": "b"}


def test_legacy_entries_fixture(fixtures_dir: Path) -> None:
    lines = parse_query_response(load(fixtures_dir, "loki_legacy_api_prom_query_entries.json"))
    assert [ln.line for ln in lines] == ["super line", "super line with labels"]
    assert lines[0].ts_ns == 1568399542380001319  # 2019-09-13T18:32:22.380001319Z, ns exact
    assert dict(lines[0].labels) == {"test": "test"}


@pytest.mark.parametrize("name", ["loki_query_range_matrix.json", "loki_query_vector.json"])
def test_metric_results_are_refused_for_logs(fixtures_dir: Path, name: str) -> None:
    with pytest.raises(ProviderError, match="metric query"):
        parse_query_response(load(fixtures_dir, name))


def test_labels_and_series_fixtures(fixtures_dir: Path) -> None:
    assert parse_labels(load(fixtures_dir, "loki_labels.json")) == ["label1", "test", "value"]
    assert parse_labels({"status": "success"}) == []  # Loki omits data when empty
    series = load(fixtures_dir, "loki_series.json")
    assert isinstance(series, dict) and len(series["data"]) == 2


@pytest.mark.parametrize(
    ("name", "status", "kind"),
    [("loki_error_400_parse.txt", 400, LogQLError),
     ("loki_error_400_end_before_start.txt", 400, LogQLError),
     ("loki_error_400_instant_log_query.txt", 400, LogQLError),
     ("loki_error_400_limit.txt", 400, LogQLError),
     ("loki_error_400_step_too_small.txt", 400, LogQLError),
     ("loki_error_400_tail_delay.txt", 400, LogQLError),
     ("loki_error_401_no_org_id.txt", 401, ProviderError),
     ("loki_error_429_too_many_outstanding.txt", 429, RateLimitedError),
     ("loki_error_504_timeout.txt", 504, ProviderError)])
def test_error_fixtures_verbatim(fixtures_dir: Path, name: str, status: int,
                                 kind: type[ProviderError]) -> None:
    body = (fixtures_dir / name).read_bytes()
    err = status_error(status, body, what="loki: query_range")
    assert isinstance(err, kind)
    assert body.decode().strip() in str(err)
    assert "\n" not in str(err)
    if status == 400:
        assert str(err).startswith("LogQL error: ")
        assert not err.retryable
    if status == 504:
        assert err.retryable


def test_error_text_is_sanitised_and_bounded() -> None:
    assert error_text(b"bad \x1b]0;x\x07 thing\n") == "bad ␛]0;x␇ thing"
    assert len(error_text("x" * 5000)) <= 300
    assert error_text("<html><title>502 Bad Gateway</title></html>") == "502 Bad Gateway"


def test_parse_ns_forms() -> None:
    assert parse_ns("1700000000123456789") == 1700000000123456789
    assert parse_ns("2019-09-13T18:32:22Z") == 1568399542 * 10**9
    assert parse_ns("2019-09-13T20:32:22.5+02:00") == 1568399542 * 10**9 + 500_000_000
    with pytest.raises(ValueError):
        parse_ns("yesterday")


def test_is_a_log_source() -> None:
    assert isinstance(provider("http://127.0.0.1:9"), LogSource)


async def test_query_range_against_stub_tenant_and_order() -> None:
    with loki_stub(require_tenant="team-a") as stub:
        base = time.time_ns() - 10**9
        for i in range(5):
            stub.push(f"line {i}", ts=base + i)
        loki = provider(stub.url, tenant="team-a")
        try:
            newest = await loki.query_range('{app="stub"}', base, base + 100, limit=2)
            assert [ln.line for ln in newest] == ["line 3", "line 4"]  # oldest first
            oldest = await loki.query_range('{app="stub"}', base, base + 100, limit=2,
                                            direction="forward")
            assert [ln.line for ln in oldest] == ["line 0", "line 1"]
            with pytest.raises(LogQLError, match="parse error at line 1, col 1"):
                await loki.query_range("unk(foo)", base, base + 100)
            long_query = '{app="stub"} |= "' + "x" * 2000 + '"'
            await loki.query_range(long_query, base, base + 100)  # sent as a POST form
            assert stub.range_queries[-1]["query"] == long_query
            probe = await loki.probe()
            assert probe.ok, probe.error
        finally:
            await loki.aclose()
        wrong = provider(stub.url, tenant="team-b")
        try:
            with pytest.raises(ProviderError, match="no org id"):
                await wrong.query_range('{app="stub"}', base, base + 100)
            assert not (await wrong.probe()).ok
        finally:
            await wrong.aclose()


async def test_tail_open_messages_and_close_code() -> None:
    with loki_stub(close_every=1.0) as stub:
        loki = provider(stub.url)
        try:
            events: list[str] = []
            got: list[str] = []
            with pytest.raises(TailClosed) as closed:
                async for message in loki.tail('{app="stub"}'):
                    if message.info.get("event") == "open":
                        events.append("open")
                        stub.push("hello")
                    got.extend(ln.line for ln in message.lines)
            assert events == ["open"]
            assert got == ["hello"]
            assert closed.value.code == 1011
            assert "reached tail max duration limit" in str(closed.value)
            assert stub.tail_params[-1]["start"].isdigit()  # never Loki's 1h default
        finally:
            await loki.aclose()


async def test_tail_refused_and_silence() -> None:
    with loki_stub(refuse_upgrade=403) as stub:
        loki = provider(stub.url)
        try:
            with pytest.raises(TailRefused) as refused:
                async for _ in loki.tail('{app="stub"}'):
                    pass
            assert refused.value.status == 403
        finally:
            await loki.aclose()
    with loki_stub(silent=True) as stub:
        loki = provider(stub.url, silence_timeout="1s", ping_interval="0.5s")
        try:
            start = time.monotonic()
            with pytest.raises(TailClosed):
                async for _ in loki.tail('{app="stub"}'):
                    pass
            assert time.monotonic() - start < 8
        finally:
            await loki.aclose()


async def test_tail_network_error_is_tail_closed() -> None:
    stub = LokiStub()  # never started: connection refused
    loki = provider(stub.url)
    try:
        with pytest.raises(TailClosed, match="ConnectError"):
            async for _ in loki.tail('{app="stub"}'):
                pass
    finally:
        await loki.aclose()
    await asyncio.sleep(0)
