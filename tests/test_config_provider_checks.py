"""Provider-level config checks: a CA file that is missing, not PEM or a directory, and an SLO
on a provider that cannot run PromQL, each a located one-line error."""

from __future__ import annotations

from pathlib import Path

from config_helpers import error_of, write


def _prom(ca_file: Path) -> str:
    return f"""
    contexts:
      prod:
        providers:
          prom: {{type: prometheus, url: "http://127.0.0.1:9", ca_file: "{ca_file}"}}
    """


def test_missing_ca_file_is_a_located_config_error(tmp_path: Path) -> None:
    # Used to load fine and fail later in `check` as a raw "FileNotFoundError: [Errno 2]".
    path = write(tmp_path, _prom(tmp_path / "nope.pem"))
    assert error_of(path) == (f"{path}:4:68: contexts.prod.providers.prom.ca_file: no such file: "
                              f"{tmp_path / 'nope.pem'} (or not a regular file)")


def test_ca_file_that_is_not_pem_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    path = write(tmp_path, _prom(bad))
    message = error_of(path)
    assert message.startswith(f"{path}:4:68: ")
    assert f"contexts.prod.providers.prom.ca_file: not a readable PEM CA bundle: {bad}" in message


def test_ca_file_of_a_directory_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, _prom(tmp_path))
    assert "ca_file: no such file" in error_of(path)


def test_slo_on_a_provider_that_cannot_run_promql_is_refused(tmp_path: Path) -> None:
    # A loki provider behind an SLO loaded fine; every snapshot then showed the SLO as no_data
    # with "cannot run PromQL queries" (the slos_from: path already refused it at load).
    path = write(tmp_path, """
    contexts:
      prod:
        providers:
          logs: {type: loki, url: "http://127.0.0.1:9"}
          prom: {type: prometheus, url: "http://127.0.0.1:9"}
        slos:
          - {name: a, provider: logs, objective: 99.9, window: 30d,
             error_query: "vector(0)", total_query: "vector(1)"}
    """)
    assert error_of(path) == (f"{path}:7:29: contexts.prod.slos[0].provider: provider 'logs' "
                              "(type loki) cannot run PromQL queries; name a prometheus provider "
                              "(prom)")
