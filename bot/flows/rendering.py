"""A flow step as the person reads it: the text in their language with the trigger's details
filled in ({kind}, {date}, {time}, {place}, {document}), and its reply buttons."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.db.models import Appointment, Document, Person
from bot.flows.model import Step
from bot.responses.catalog import Catalog
from bot.responses.menus import payload

RATINGS = range(1, 6)


class _Blank(dict[str, str]):
    """Placeholders the trigger cannot fill stay empty rather than failing the message."""

    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class StepMessage:
    """What one flow step says and offers."""

    text: str
    buttons: list[dict[str, str]]
    #: The question a typed yes or no answers (see bot/actions/pending.py), or None.
    question: str | None


def trigger_entity(trigger_key: str) -> tuple[str, int | None]:
    """`appointment:12` → ("appointment", 12)."""
    kind, _, number = trigger_key.partition(":")
    return kind, int(number) if number.isdigit() else None


def appointment_values(catalog: Catalog, language: str, appointment: Appointment, time_zone: str) -> dict[str, str]:
    """The placeholders of an appointment, in the person's language and local time."""
    local = appointment.starts_at.astimezone(ZoneInfo(time_zone))
    return {"kind": catalog.word(language, "appointment_kind", appointment.kind.value),
            "date": local.strftime("%d.%m"), "time": local.strftime("%H:%M"), "place": appointment.place}


def trigger_values(
    session: Session, catalog: Catalog, person: Person, language: str, trigger_key: str
) -> dict[str, str]:
    """The placeholders a trigger fills (an appointment's time and place, a document's type)."""
    kind, number = trigger_entity(trigger_key)
    if kind == "appointment" and number is not None:
        appointment = session.get(Appointment, number)
        if appointment is not None:
            return appointment_values(catalog, language, appointment, person.time_zone)
    if kind == "document" and number is not None:
        document = session.get(Document, number)
        if document is not None:
            return {"document": catalog.word(language, "document_type", document.type, fallback=document.type)}
    return {}


def step_text(step: Step, language: str, default_language: str, values: dict[str, str]) -> str:
    """The step's message in `language`, else in the language the flow lets its speakers read instead
    (validation makes sure there is one); the default language only for a flow never validated."""
    template = step.message.get(step.text_language(language) or default_language) or next(iter(step.message.values()))
    return template.format_map(_Blank(values))


def step_buttons(step: Step, catalog: Catalog, language: str, trigger_key: str, outbox_id: int) -> list[dict[str, str]]:
    """The step's reply buttons, with payloads that continue the conversation in the engine."""
    kind, number = trigger_entity(trigger_key)
    buttons = []
    for name in step.buttons:
        if name in ("confirm", "reschedule", "cancel") and kind == "appointment" and number is not None:
            intent = {"confirm": "confirm_appointment", "reschedule": "reschedule_appointment",
                      "cancel": "cancel_appointment"}[name]
            buttons.append({"title": catalog.button_title(language, {"key": name}),
                            "payload": payload(intent, appointment_id=number)})
        elif name in ("yes", "no"):
            buttons.append({"title": catalog.button_title(language, {"key": name}),
                            "payload": payload("affirm" if name == "yes" else "deny")})
        elif name == "rating":
            buttons += [{"title": str(score), "payload": payload("rate_wellbeing", score=score, outbox_id=outbox_id)}
                        for score in RATINGS]
    return buttons


def step_question(step: Step, trigger_key: str, outbox_id: int) -> str | None:
    """What a typed yes or no answers: the flow's own yes/no question; for an appointment
    reminder, "will you come?" (yes confirms) or "shall we find another time?"."""
    if "yes" in step.buttons or "no" in step.buttons:
        return f"flow:{outbox_id}"
    kind, number = trigger_entity(trigger_key)
    if kind != "appointment" or number is None:
        return None
    if "confirm" in step.buttons:
        return f"remind:{number}"
    if "reschedule" in step.buttons:
        return f"reschedule:{number}"
    return None


def render_step(
    session: Session, catalog: Catalog, step: Step, person: Person, language: str, trigger_key: str, outbox_id: int
) -> StepMessage:
    """The step's text and buttons for `person` in `language`."""
    values = trigger_values(session, catalog, person, language, trigger_key)
    return StepMessage(
        text=step_text(step, language, catalog.default_language, values),
        buttons=step_buttons(step, catalog, language, trigger_key, outbox_id),
        question=step_question(step, trigger_key, outbox_id),
    )

