"""`builderos check`: run the checklist, contract and resilience suites, headless, and report."""

from __future__ import annotations

import asyncio
import logging
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from harness.scenario import Scenario

Opt = typer.Option
console = Console(highlight=False)


FIRST_CONTACT = 10.0
"""Seconds a --url backend has to answer /api/health before anything runs (CI may start it
just before)."""


class SuiteChoice(StrEnum):
    all = "all"
    checklist = "checklist"
    contract = "contract"
    resilience = "resilience"


def check(
    suite: Annotated[
        SuiteChoice, Opt(help="Which scenarios: checklist, contract, resilience or all.")
    ] = SuiteChoice.all,
    soak_messages: Annotated[
        int,
        Opt(
            min=5,
            help="Messages in the resilience soak (CI: 100; the full run: 1000).",
        ),
    ] = 100,
    list_: Annotated[
        bool, Opt("--list", help="List the scenarios and what each checks, then exit.")
    ] = False,
    only: Annotated[
        list[str] | None, Opt(help="Run only this scenario (repeatable).", show_default=False)
    ] = None,
    exitfirst: Annotated[bool, Opt("-x", "--exitfirst", help="Stop at the first failure.")] = False,
    junit: Annotated[Path | None, Opt(help="Write a JUnit XML report here.")] = None,
    json_: Annotated[Path | None, Opt("--json", help="Write a JSON report here.")] = None,
    url: Annotated[
        str | None, Opt(help="Check this backend instead of the bundled mock (needs --token).")
    ] = None,
    token: Annotated[
        str | None,
        Opt(
            help="The backend's API token (env BUILDEROS_CHECK_TOKEN).",
            envvar="BUILDEROS_CHECK_TOKEN",
        ),
    ] = None,
    restart_cmd: Annotated[
        str | None,
        Opt(help="Shell command that restarts the --url backend; without it, restart steps skip."),
    ] = None,
) -> None:
    """Run the mobile testing checklists through the real app, headless, and validate a
    backend against the contract. Exit 0 only when nothing failed."""
    from harness import report
    from harness.resilience import SOAK
    from harness.suites import select

    SOAK.messages = soak_messages
    try:
        scenarios = select(suite.value, only or [])
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if list_:
        console.print(report.scenario_list(scenarios), soft_wrap=True)
        return
    if url is None and (token or restart_cmd):
        console.print("[red]error:[/] --token and --restart-cmd go with --url")
        raise typer.Exit(2)
    if url is not None and not token:
        console.print("[red]error:[/] --url needs --token (or env BUILDEROS_CHECK_TOKEN)")
        raise typer.Exit(2)
    logging.getLogger().addHandler(logging.NullHandler())  # the backend's and app's logs stay quiet
    try:
        failed = asyncio.run(_run(scenarios, url, token, restart_cmd, exitfirst, junit, json_))
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: no report written")
        raise typer.Exit(130) from None
    raise typer.Exit(1 if failed else 0)


async def _run(
    scenarios: list[Scenario],
    url: str | None,
    token: str | None,
    restart_cmd: str | None,
    exitfirst: bool,
    junit: Path | None,
    json_path: Path | None,
) -> bool:
    """True when something failed (or the target could not be reached at all)."""
    from harness import report
    from harness.outcome import Failed
    from harness.runner import run_all
    from harness.target import BundledMock, RemoteBackend

    target = BundledMock() if url is None else RemoteBackend(url, token or "", restart_cmd)
    try:
        try:
            await target.ready(limit=FIRST_CONTACT)
        except Failed as exc:
            console.print(f"[red]error:[/] {exc}")
            return True
        console.print(
            f"[bold]builderos check[/] — {len(scenarios)} scenarios against {target.label}"
        )
        started = time.perf_counter()
        with console.status("") as status:
            results = await run_all(
                scenarios,
                target,
                stop_at_failure=exitfirst,
                starting=lambda s: status.update(f"{s.suite} · {s.name} …"),
                finished=lambda r: console.print(report.progress_line(r), soft_wrap=True),
            )
    finally:
        await target.close()
    seconds = time.perf_counter() - started
    console.print()
    console.print(report.summary(results, seconds, len(scenarios) - len(results)))
    try:
        if junit:
            report.write_junit(junit, results, target.label)
            console.print(f"JUnit report: {junit}")
        if json_path:
            report.write_json(json_path, results, target.label, seconds)
            console.print(f"JSON report: {json_path}")
    except OSError as exc:
        console.print(f"[red]error:[/] could not write the report: {exc}")
        return True
    return any(r.status == "failed" for r in results)
