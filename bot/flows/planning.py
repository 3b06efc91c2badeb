"""When a flow step goes out: the trigger's date plus the offset, at the local time of day, outside
quiet hours, in the person's own time zone (zoneinfo with current tzdata)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.flows.model import Flow, QuietHours, Step


@dataclass(frozen=True)
class Planned:
    """A step's planned send time (UTC), or why it will not be sent."""

    step: str
    due: datetime | None
    outcome: str  # "planned", "late_send" (sent at once), "late_skip", or "quiet_skip"


def in_quiet_hours(local: time, quiet: QuietHours) -> bool:
    """True if a local time of day falls in the quiet hours (which may span midnight)."""
    if quiet.start <= quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end


def after_quiet_hours(local: datetime, quiet: QuietHours) -> datetime:
    """`local` itself, or the moment the quiet hours it falls in end."""
    if not in_quiet_hours(local.time(), quiet):
        return local
    end = datetime.combine(local.date(), quiet.end, local.tzinfo)
    return end if end > local else end + timedelta(days=1)


def plan_step(step: Step, quiet: QuietHours, trigger_at: datetime, time_zone: str, now: datetime) -> Planned:
    """The send time of one step for a trigger at `trigger_at` (aware), for a person in `time_zone`."""
    zone = ZoneInfo(time_zone)
    local = (trigger_at + step.offset).astimezone(zone)
    if step.at is not None:
        local = datetime.combine(local.date(), step.at, zone)
    local = after_quiet_hours(local, quiet)
    due = local.astimezone(ZoneInfo("UTC"))
    if step.offset < timedelta(0) and due > trigger_at:
        return Planned(step.id, None, "quiet_skip")  # waiting out the night would pass the event itself
    if due >= now:
        return Planned(step.id, due, "planned")
    if step.if_late == "skip":
        return Planned(step.id, None, "late_skip")
    return Planned(step.id, after_quiet_hours(now.astimezone(zone), quiet).astimezone(ZoneInfo("UTC")), "late_send")


def plan_flow(flow: Flow, trigger_at: datetime, time_zone: str, now: datetime) -> list[Planned]:
    """Every step of a flow, planned."""
    return [plan_step(step, flow.quiet_hours, trigger_at, time_zone, now) for step in flow.steps]
