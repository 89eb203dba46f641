"""Faults on demand: refuse, hang, drip, 5xx, garbage, expiry, bad specs."""

from __future__ import annotations

import http.client as httpclient
import json
import socket
import time
from collections.abc import Iterator

import pytest
from sim_helpers import SimHandle, clear_faults, http, launch_simulator, set_fault

from sre_cockpit.simulator.faults import FaultSpecError, FaultTable


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=1)
    yield handle
    handle.stop()


@pytest.fixture(autouse=True)
def _clean(sim: SimHandle) -> Iterator[None]:
    yield
    clear_faults(sim.url)


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def test_refuse_resets_the_connection_and_only_that_backend(sim: SimHandle) -> None:
    set_fault(sim.url, "prometheus", "refuse", seconds=30)
    with pytest.raises((ConnectionResetError, httpclient.RemoteDisconnected, ConnectionAbortedError)):
        conn = httpclient.HTTPConnection(*_host_port(sim.url), timeout=5)
        conn.request("GET", "/api/v1/query?query=vector(1)")
        conn.getresponse().read()
    assert http("GET", f"{sim.url}/api/v2/status")[0] == 200  # other backends unaffected
    faults = json.loads(http("GET", f"{sim.url}/_sim/faults")[2])["faults"]
    assert faults[0]["backend"] == "prometheus" and faults[0]["mode"] == "refuse"


def test_hang_never_answers_until_cleared(sim: SimHandle) -> None:
    set_fault(sim.url, "loki", "hang")
    sock = socket.create_connection(_host_port(sim.url), timeout=1.0)
    try:
        sock.sendall(b"GET /loki/api/v1/labels HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(socket.timeout):
            sock.recv(1)
        set_fault(sim.url, "loki", "none")
        sock.settimeout(5)
        assert sock.recv(12).startswith(b"HTTP/1.1 200")
    finally:
        sock.close()


def test_drip_sends_one_byte_per_interval(sim: SimHandle) -> None:
    set_fault(sim.url, "alertmanager", "drip", arg=20)
    t0 = time.monotonic()
    status, _h, raw = http("GET", f"{sim.url}/api/v2/receivers")
    elapsed = time.monotonic() - t0
    assert status == 200 and json.loads(raw)
    assert elapsed >= len(raw) * 0.02 * 0.8


def test_error_modes_use_each_backends_format(sim: SimHandle) -> None:
    set_fault(sim.url, "all", "error500")
    status, _h, raw = http("GET", f"{sim.url}/api/v1/query?query=vector(1)")
    assert status == 500 and json.loads(raw)["errorType"] == "internal"
    status, headers, raw = http("GET", f"{sim.url}/loki/api/v1/labels")
    assert status == 500 and headers["content-type"].startswith("text/plain")
    status, _h, raw = http("GET", f"{sim.url}/api/v2/alerts")
    assert status == 500 and isinstance(json.loads(raw), str)
    set_fault(sim.url, "prometheus", "error502")
    status, headers, raw = http("GET", f"{sim.url}/api/v1/query?query=vector(1)")
    assert status == 502 and headers["content-type"].startswith("text/html")
    set_fault(sim.url, "all", "timeout")
    status, _h, raw = http("GET", f"{sim.url}/api/v1/query?query=vector(1)")
    assert status == 503 and json.loads(raw)["errorType"] == "timeout"
    status, _h, raw = http("GET", f"{sim.url}/loki/api/v1/labels")
    assert status == 504 and raw.decode().startswith("request timed out")
    set_fault(sim.url, "prometheus", "garbage")
    status, _h, raw = http("GET", f"{sim.url}/api/v1/query?query=vector(1)")
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(raw)


def test_faults_expire(sim: SimHandle) -> None:
    set_fault(sim.url, "prometheus", "error500", seconds=0.5)
    assert http("GET", f"{sim.url}/api/v1/query?query=vector(1)")[0] == 500
    time.sleep(0.7)
    assert http("GET", f"{sim.url}/api/v1/query?query=vector(1)")[0] == 200


def test_bad_fault_requests_are_400(sim: SimHandle) -> None:
    for body in ({"backend": "nope", "mode": "hang"}, {"backend": "loki", "mode": "explode"},
                 {"backend": "loki"}, {"backend": "loki", "mode": "hang", "seconds": "x"},
                 {"backend": "loki", "mode": "hang", "color": 1}):
        status, _h, raw = http("POST", f"{sim.url}/_sim/faults", body)
        assert status == 400 and json.loads(raw)["error"]


def test_fault_table_specs() -> None:
    table = FaultTable()
    table.apply_spec("loki:ws_close_every:3")
    fault = table.active("loki")
    assert fault is not None and fault.mode == "ws_close_every" and fault.argument() == 3
    for bad in ("loki", "loki:nope", "x:hang", "loki:drip:fast"):
        with pytest.raises(FaultSpecError):
            table.apply_spec(bad)
