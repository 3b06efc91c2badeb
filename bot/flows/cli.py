"""`hamroh flows validate | list | preview FLOW --person ID`."""

from __future__ import annotations

import argparse
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot import runtime
from bot.db.models import Person, utcnow
from bot.flows.model import LANGUAGE_NAMES, Flow
from bot.flows.planning import plan_flow
from bot.flows.rendering import appointment_values, step_text
from bot.repositories import appointments, people
from bot.repositories.people import NotFound


def add_flows_parser(commands: argparse._SubParsersAction) -> None:
    """Register `hamroh flows …`."""
    flows = commands.add_parser("flows", help="caseworker reminder and follow-up flows (flows/*.yml)")
    actions = flows.add_subparsers(dest="flows_command", required=True, metavar="ACTION")
    actions.add_parser("validate", help="check every flow file; errors name the file and line (exit 1)")
    actions.add_parser("list", help="the flows, their triggers and steps")
    preview = actions.add_parser("preview", help="the exact local send times and texts for one person")
    preview.add_argument("flow")
    preview.add_argument("--person", type=int, required=True)


def run_flows(args: argparse.Namespace) -> int:
    """Run one `hamroh flows` command; return the exit code."""
    library = runtime.flow_library()
    flows = library.current()
    if args.flows_command == "validate":
        for line in library.errors:
            print(f"error: {line}")
        for line in library.warnings:
            print(f"warning: {line}")
        print(f"{len(flows)} valid flow(s), {len(library.errors)} error(s), {len(library.warnings)} warning(s)")
        return 1 if library.errors else 0
    if args.flows_command == "list":
        for flow in flows.values():
            steps = ", ".join(f"{s.id} ({_offset(s.offset)}{' at ' + s.at.strftime('%H:%M') if s.at else ''})"
                              for s in flow.steps)
            print(f"{flow.name}: on {flow.trigger}: {steps}")
        return 0
    if args.flow not in flows:
        print(f"error: no valid flow named {args.flow!r}; see `hamroh flows list`")
        return 2
    try:
        return _preview(flows[args.flow], args.person)
    except NotFound as error:
        print(f"error: {error}")
        return 2


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    for unit, size in (("week", 10080), ("day", 1440), ("hour", 60)):
        if minutes % size == 0 and minutes:
            return f"{minutes // size:+d} {unit}(s)"
    return f"{minutes:+d} minute(s)"


def _preview(flow: Flow, person_id: int) -> int:
    catalog = runtime.catalog()
    with runtime.database().transaction() as session:
        person: Person = people.get_person(session, person_id)
        now = utcnow()
        zone = ZoneInfo(person.time_zone)
        values: dict[str, str] = {}
        trigger_at = now
        if flow.trigger.startswith("appointment"):
            upcoming = appointments.upcoming(session, [person.id], now)
            if not upcoming:
                print(f"person {person.id} has no upcoming appointment to preview this flow with")
                return 0
            trigger_at = upcoming[0].starts_at
            values = appointment_values(catalog, person.language, upcoming[0], person.time_zone)
        elif flow.trigger == "monthly":
            local_now = now.astimezone(zone)
            next_month = (local_now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0, second=0)
            trigger_at = next_month
        values.setdefault("document", catalog.word(person.language, "document_type", "passport"))
    print(f"{flow.name} for person {person.id} ({person.language}, {person.time_zone}), trigger at "
          f"{trigger_at.astimezone(zone):%Y-%m-%d %H:%M} local:")
    steps = {step.id: step for step in flow.steps}
    for planned in plan_flow(flow, trigger_at, person.time_zone, now):
        step = steps[planned.step]
        text = step_text(step, person.language, catalog.default_language, values)
        when = (f"{planned.due.astimezone(zone):%Y-%m-%d %H:%M} local ({planned.due:%H:%M} UTC)"
                if planned.due else "not sent")
        print(f"- {step.id}: {when} [{planned.outcome}]"
              + (f" if {step.only_if}" if step.only_if else ""))
        print(f"  {text}")
        shown = step.text_language(person.language)
        if shown != person.language:
            print(f"  (in {LANGUAGE_NAMES.get(shown or '', 'the default language')}: the flow has no "
                  f"{LANGUAGE_NAMES[person.language]} text for this step; its fallback)")
        if step.buttons:
            print(f"  buttons: {', '.join(step.buttons)}")
    return 0
