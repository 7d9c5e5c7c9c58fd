"""`kefu hours set FILE` / `kefu hours show` against a real migrated SQLite database."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from core.settings import Settings
from service.commands import hours
from store.migrate import upgrade
from tests.tickets.schedules import sh
from tickets.cn_calendar import known_years

YAML = """\
timezone: Asia/Shanghai
weekly:
  mon: ["09:00-12:00", "13:00-18:00"]
  tue: "09:00-18:00"
holidays: cn
overrides:
  2025-12-24: ["09:00-15:00"]
"""


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kefu")
    hours.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    upgrade(url)
    return Settings.from_env({"DATABASE_URL": url, "KEFU_VAR_DIR": str(tmp_path)}, require_secret=False)


async def test_show_default_then_set_and_show(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await hours.run(parse("hours", "show"), settings, clock=lambda: sh(2025, 9, 30, 20)) == 0
    out = capsys.readouterr().out
    assert "default hours" in out and "sun: 09:00-21:00" in out
    assert "open; closes at 2025-09-30 21:00 (Asia/Shanghai)" in out
    schedule = tmp_path / "office.yml"
    schedule.write_text(YAML, encoding="utf-8")
    args = parse(
        "hours", "set", str(schedule), "--group", "billing", "--mode", "queue", "--announcement", "国庆放假"
    )
    assert await hours.run(args, settings, clock=lambda: sh(2025, 9, 30, 20)) == 0
    out = capsys.readouterr().out
    assert "stored business hours of billing" in out and "after hours: queue" in out
    # National Day to Oct 8, Thu/Fri closed here, then Sat Oct 11: a 调休 day with Monday hours.
    assert "closed; opens at 2025-10-11 09:00 (Asia/Shanghai)" in out
    args = parse("hours", "show", "--group", "billing")
    assert await hours.run(args, settings, clock=lambda: sh(2025, 10, 13, 12, 30)) == 0
    out = capsys.readouterr().out
    assert "2025-12-24: 09:00-15:00" in out and "announcement: 国庆放假" in out
    assert "closed; opens at 2025-10-13 13:00" in out  # Monday lunch break
    assert "wed: closed" in out
    assert "warning" not in out


async def test_show_warns_when_the_holiday_data_is_about_to_end(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    last_year = known_years().stop - 1
    assert await hours.run(parse("hours", "show"), settings, clock=lambda: sh(last_year, 12, 1, 10)) == 0
    out = capsys.readouterr().out
    assert f"warning: China holiday data ends {last_year}-12-31 (30 days)" in out


async def test_set_keeps_mode_and_lists_every_problem(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yml"
    good.write_text(YAML, encoding="utf-8")
    await hours.run(
        parse("hours", "set", str(good), "--mode", "bot_only"), settings, clock=lambda: sh(2025, 10, 13)
    )
    await hours.run(parse("hours", "set", str(good)), settings, clock=lambda: sh(2025, 10, 13))
    assert "after hours: bot_only" in capsys.readouterr().out
    bad = tmp_path / "bad.yml"
    bad.write_text("timezone: Mars/Olympus\nweekly:\n  wed: ['25:00-26:00']\n", encoding="utf-8")
    assert await hours.run(parse("hours", "set", str(bad)), settings, clock=lambda: sh(2025, 10, 13)) == 2
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "timezone:" in err and "weekly.wed[0]:" in err
    assert await hours.run(parse("hours", "show", "--group", "Bad!"), settings) == 2
