"""Flow files: validation with file and line, hot reload, and planning in each person's time zone."""

from __future__ import annotations

import os
import time as clock
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.flows.library import FLOWS_DIR, FlowLibrary, read_flow
from bot.flows.model import Flow, QuietHours, Step
from bot.flows.planning import after_quiet_hours, plan_step
from bot.flows.rendering import step_text

UTC = timezone.utc
GOOD = """name: {name}
trigger: appointment_scheduled
steps:
  - id: day_before
    offset: -1 day
    at: "10:00"
    message:
      en: "Tomorrow at {{time}}"
      ru: "Завтра в {{time}}"
      uz: "Ertaga soat {{time}} da"
      uz-Cyrl: "Эртага соат {{time}} да"
      kk: "Ертең сағат {{time}}-де"
      ky: "Эртең саат {{time}} да"
      tg: "Фардо соати {{time}}"
"""


def test_shipped_flows_are_valid_in_every_language() -> None:
    library = FlowLibrary(FLOWS_DIR)
    flows = library.current()
    assert library.errors == [] and library.warnings == []
    assert set(flows) == {"appointment_reminders", "referral_follow_up", "course_interest_follow_up",
                          "document_ready", "monthly_wellbeing"}


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD.format(name="f").replace("appointment_scheduled", "sun"), "f.yml:2: trigger: unknown trigger 'sun'"),
        (GOOD.format(name="f").replace("-1 day", "yesterday"), "f.yml:5: steps.0.offset: offset 'yesterday'"),
        (GOOD.format(name="f").replace('"10:00"', '"25:00"'), "f.yml:6: steps.0.at: time '25:00'"),
        (GOOD.format(name="f").replace("en:", "fr:"), "f.yml:8: steps.0.message: unknown language tag(s) fr"),
        (GOOD.format(name="f").replace("{time}", "{hour}"), "f.yml:8: steps.0.message: en: unknown placeholder"),
        (GOOD.format(name="f") + "  - id: day_before\n    offset: 1 day\n    message: {en: x}\n",
         "f.yml:15: steps.1.id: step id 'day_before' is used twice"),
        (GOOD.format(name="f").replace("appointment_scheduled", "person_enrolled"),
         "f.yml:8: steps.0.message.en: {time}: a person_enrolled flow fills nothing"),
        (GOOD.format(name="f").replace("appointment_scheduled", "document_status_changed"),
         "f.yml:8: steps.0.message.en: {time}: a document_status_changed flow fills {document}"),
        (GOOD.format(name="f").replace("      kk:", "      #kk:"),
         "f.yml:8: steps.0.message: no text in kk: people who read Kazakh would get a language"),
        (GOOD.format(name="f").replace("      uz:", "      #uz:").replace("steps:", "fallback: {uz: ru}\nsteps:"),
         "f.yml:3: fallback: uz: ru: speakers of uz are not known to read ru"),
        (GOOD.format(name="f").replace("      ru:", "      #ru:").replace("      kk:", "      #kk:")
         .replace("steps:", "fallback: {kk: ru}\nsteps:"), "f.yml:9: steps.0.message: no text in ru, kk"),
        (GOOD.format(name="f").replace("day_before\n", "day_before\n    expires: -1 day\n"),
         "f.yml:5: steps.0.expires: expires must be a positive time"),
        (GOOD.format(name="f").replace("    at:", "   at:"), "f.yml:6: not valid YAML"),
        (GOOD.format(name="other"), "f.yml:1: name: the flow is called 'other' but the file 'f'"),
        (GOOD.format(name="f").replace("day_before\n", "day_before\n    only_if: sunny\n"),
         "f.yml:5: steps.0.only_if: unknown condition 'sunny'"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "f.yml"
    path.write_text(text)
    flow, errors, _ = read_flow(path)
    assert flow is None
    assert any(error.startswith(expected) for error in errors), errors


def test_a_configured_russian_fallback_for_kazakh_is_valid_and_stated(tmp_path: Path) -> None:
    text = GOOD.format(name="f").replace("      kk:", "      #kk:").replace("steps:", "fallback: {kk: ru}\nsteps:")
    (tmp_path / "f.yml").write_text(text)
    flow, errors, warnings = read_flow(tmp_path / "f.yml")
    assert flow is not None and errors == []
    assert warnings == ["f.yml: step day_before: no text in kk; Kazakh speakers get the Russian text (fallback)"]
    assert step_text(flow.steps[0], "kk", "uz", {"time": "10:00"}) == "Завтра в 10:00"
    assert step_text(flow.steps[0], "ky", "uz", {"time": "10:00"}) == "Эртең саат 10:00 да"


def test_yes_and_no_buttons_survive_yaml(tmp_path: Path) -> None:
    (tmp_path / "f.yml").write_text(GOOD.format(name="f") + "    buttons: [yes, no]\n")
    flow, errors, _ = read_flow(tmp_path / "f.yml")
    assert errors == [] and flow is not None and flow.steps[0].buttons == ["yes", "no"]


def _touch(path: Path, text: str) -> None:
    path.write_text(text)
    stamp = clock.time() + 1 + len(text) % 7  # a new modification time even within one second
    os.utime(path, (stamp, stamp))


def test_hot_reload_keeps_the_last_valid_version_of_a_broken_file(tmp_path: Path) -> None:
    library = FlowLibrary(tmp_path)
    assert library.current() == {}
    _touch(tmp_path / "f.yml", GOOD.format(name="f"))
    assert library.current()["f"].steps[0].at == time(10, 0)
    _touch(tmp_path / "f.yml", GOOD.format(name="f").replace('"10:00"', '"11:30"'))
    assert library.current()["f"].steps[0].at == time(11, 30)
    _touch(tmp_path / "f.yml", GOOD.format(name="f").replace("-1 day", "soon"))
    assert library.current()["f"].steps[0].at == time(11, 30) and library.errors
    _touch(tmp_path / "g.yml", GOOD.format(name="g"))
    assert set(library.current()) == {"f", "g"}
    (tmp_path / "f.yml").unlink()
    assert set(library.current()) == {"g"}


def step(offset: str, at: str | None = None, if_late: str = "send") -> Step:
    return Step.model_validate({"id": "s", "offset": offset, "at": at, "if_late": if_late, "message": {"en": "x"}})


QUIET = QuietHours()
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "offset, at, zone, trigger, expected_local",
    [
        ("-1 day", "10:00", "Asia/Tashkent", datetime(2026, 11, 28, 5, 0, tzinfo=UTC), "2026-11-27 10:00"),
        ("-1 day", "10:00", "Asia/Bishkek", datetime(2026, 11, 28, 5, 0, tzinfo=UTC), "2026-11-27 10:00"),
        # Kazakhstan has one zone, UTC+5, since 2024: 10:00 in Almaty is 05:00 UTC
        ("-1 day", "10:00", "Asia/Almaty", datetime(2026, 11, 28, 5, 0, tzinfo=UTC), "2026-11-27 10:00"),
        ("-2 hours", None, "Asia/Dushanbe", datetime(2026, 11, 28, 5, 0, tzinfo=UTC), "2026-11-28 09:00"),
        # two hours before a 10:00 appointment is 08:00, in quiet hours: it waits until 09:00
        ("-2 hours", None, "Asia/Tashkent", datetime(2026, 11, 28, 5, 0, tzinfo=UTC), "2026-11-28 09:00"),
        # a follow-up due at 22:30 waits for the morning
        ("3 days", "22:30", "Asia/Tashkent", datetime(2026, 11, 25, 8, 0, tzinfo=UTC), "2026-11-29 09:00"),
    ],
)
def test_planning_in_the_persons_time_zone_outside_quiet_hours(
    offset: str, at: str | None, zone: str, trigger: datetime, expected_local: str
) -> None:
    planned = plan_step(step(offset, at), QUIET, trigger, zone, NOW)
    assert planned.outcome == "planned" and planned.due is not None
    assert planned.due.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") == expected_local


def test_almaty_is_utc_plus_five_with_current_tzdata() -> None:
    assert datetime(2026, 11, 25, 12, tzinfo=ZoneInfo("Asia/Almaty")).utcoffset() == timedelta(hours=5)


def test_a_step_already_past_is_sent_at_once_or_skipped_as_the_flow_says() -> None:
    trigger = NOW - timedelta(hours=1)  # the "day before" of an appointment an hour ago is long past
    skipped = plan_step(step("-1 day", "10:00", if_late="skip"), QUIET, trigger, "Asia/Tashkent", NOW)
    assert (skipped.outcome, skipped.due) == ("late_skip", None)
    sent = plan_step(step("-1 day", "10:00"), QUIET, trigger, "Asia/Tashkent", NOW)
    assert sent.outcome == "late_send" and sent.due == NOW  # 11:00 in Tashkent: not quiet
    at_night = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # 23:00 in Tashkent
    late = plan_step(step("-1 day", "10:00"), QUIET, trigger, "Asia/Tashkent", at_night)
    assert late.due is not None and late.due.astimezone(ZoneInfo("Asia/Tashkent")).strftime("%d %H:%M") == "26 09:00"


def test_a_reminder_that_quiet_hours_would_push_past_the_event_is_skipped() -> None:
    appointment = datetime(2026, 11, 28, 3, 30, tzinfo=UTC)  # 08:30 in Tashkent; two hours before is 06:30
    planned = plan_step(step("-2 hours"), QUIET, appointment, "Asia/Tashkent", NOW)
    assert (planned.outcome, planned.due) == ("quiet_skip", None)


def test_quiet_hours_within_one_day_too() -> None:
    quiet = QuietHours.model_validate({"from": "13:00", "to": "14:00"})
    local = datetime(2026, 11, 25, 13, 30, tzinfo=ZoneInfo("Asia/Tashkent"))
    assert after_quiet_hours(local, quiet).strftime("%H:%M") == "14:00"
    assert Flow.model_validate({"name": "x", "trigger": "monthly", "quiet_hours": {"from": "22:00", "to": "08:00"},
                                "steps": [{"id": "a", "offset": "0 days", "message": {"en": "x"}}]}).quiet_hours.end \
        == time(8, 0)


def test_cli_validate_list_and_preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from bot import runtime
    from bot.cli import main
    from bot.settings import get_settings

    monkeypatch.setenv("HAMROH_DATABASE_URL", f"sqlite:///{tmp_path / 'flows.db'}")
    monkeypatch.setenv("HAMROH_SECRET_KEY", "k")
    get_settings.cache_clear()
    runtime.database.cache_clear()
    try:
        assert main(["admin", "seed-demo"]) == 0
        assert main(["flows", "validate"]) == 0
        assert main(["flows", "list"]) == 0
        capsys.readouterr()
        assert main(["flows", "preview", "appointment_reminders", "--person", "2"]) == 0
        out = capsys.readouterr().out
        flow = FlowLibrary(FLOWS_DIR).current()["appointment_reminders"]
        assert flow.steps[0].message["uz-Cyrl"].split("{")[0] in out  # the person's language
        assert "10:00 local" in out and "[planned]" in out
        assert main(["flows", "preview", "nothing", "--person", "2"]) == 2
        assert main(["flows", "preview", "monthly_wellbeing", "--person", "99"]) == 2
    finally:
        get_settings.cache_clear()
        runtime.database.cache_clear()


def test_preview_states_a_fallback_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from bot import runtime
    from bot.cli import main
    from bot.settings import get_settings

    flows_dir = tmp_path / "flows"
    flows_dir.mkdir()
    monthly = GOOD.format(name="f").replace("appointment_scheduled", "monthly").replace("{time}", "10:00")
    (flows_dir / "f.yml").write_text(monthly.replace("      kk:", "      #kk:")
                                     .replace("steps:", "fallback: {kk: ru}\nsteps:"), encoding="utf-8")
    monkeypatch.setenv("HAMROH_DATABASE_URL", f"sqlite:///{tmp_path / 'flows.db'}")
    monkeypatch.setenv("HAMROH_FLOWS_DIR", str(flows_dir))
    monkeypatch.setenv("HAMROH_SECRET_KEY", "k")
    get_settings.cache_clear()
    runtime.database.cache_clear()
    runtime.flow_library.cache_clear()
    try:
        assert main(["admin", "seed-demo"]) == 0
        assert main(["flows", "validate"]) == 0
        assert "Kazakh speakers get the Russian text (fallback)" in capsys.readouterr().out
        assert main(["flows", "preview", "f", "--person", "3"]) == 0  # the sample person 3 reads Kazakh
        out = capsys.readouterr().out
        assert "Завтра в" in out and "(in Russian: the flow has no Kazakh text for this step; its fallback)" in out
        assert main(["flows", "preview", "f", "--person", "2"]) == 0  # uz-Cyrl: their own text
        out = capsys.readouterr().out
        assert "Эртага соат" in out and "fallback" not in out
    finally:
        get_settings.cache_clear()
        runtime.database.cache_clear()
        runtime.flow_library.cache_clear()
