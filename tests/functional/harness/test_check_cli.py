"""`builderos check` from the command line: listing, choosing, bad input, exit codes, reports."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

import harness.cli
from builderos.cli import app
from harness.suites import all_scenarios
from tests.conftest import url_of

runner = CliRunner()


def test_list_names_every_scenario_and_what_it_checks() -> None:
    result = runner.invoke(app, ["check", "--list"])
    assert result.exit_code == 0, result.output
    for scenario in all_scenarios():
        assert scenario.name in result.output
        assert scenario.summary in result.output


def test_enough_scenarios_each_documented() -> None:
    scenarios = all_scenarios()
    checklist = [s for s in scenarios if s.suite == "checklist"]
    assert len([s for s in checklist if s.source.startswith("seed 000")]) == 11
    assert len([s for s in checklist if s.source.startswith("seed 001")]) == 6
    assert all(s.summary for s in scenarios), "each scenario quotes what it checks"


def test_an_unknown_scenario_is_a_usage_error() -> None:
    result = runner.invoke(app, ["check", "--only", "no-such-thing"])
    assert result.exit_code == 2
    assert "no scenario named no-such-thing" in result.output


def test_url_needs_a_token_and_token_needs_a_url() -> None:
    no_token = runner.invoke(app, ["check", "--url", "http://127.0.0.1:1"], env={})
    assert no_token.exit_code == 2 and "--url needs --token" in no_token.output
    no_url = runner.invoke(app, ["check", "--token", "t"])
    assert no_url.exit_code == 2 and "go with --url" in no_url.output


def test_a_dead_url_is_a_clear_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, refusing_socket: socket.socket
) -> None:
    monkeypatch.setattr(harness.cli, "FIRST_CONTACT", 0.3)
    url = url_of(refusing_socket)
    result = runner.invoke(app, ["check", "--suite", "contract", "--url", url, "--token", "t"])
    assert result.exit_code == 1
    assert "did not answer /api/health" in result.output
    assert "Traceback" not in result.output


def test_contract_run_on_the_bundled_mock_writes_junit(tmp_path: Path) -> None:
    junit = tmp_path / "out.xml"
    result = runner.invoke(app, ["check", "--suite", "contract", "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
    names = {c.get("name") for c in ET.parse(junit).getroot().iter("testcase")}
    assert names == {s.name for s in all_scenarios() if s.suite == "contract"}


def test_only_runs_just_those(tmp_path: Path) -> None:
    report = tmp_path / "out.json"
    result = runner.invoke(
        app, ["check", "--only", "health", "--only", "ws-handshake", "--json", str(report)]
    )
    assert result.exit_code == 0, result.output
    assert "2 scenarios" in result.output and report.exists()
