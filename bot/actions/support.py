"""Psychological support (consented triage, then a referral), the crisis path, a human handoff."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from sqlalchemy.orm import Session

from bot.actions.common import Caller, Outcome, Say, ServiceAction
from bot.repositories import people, support

#: Triage questions in order: slot, reply asking it, options.
QUESTIONS = [
    ("concern", "utter_triage_concern", ["sleep", "anxiety", "family", "children", "other"]),
    ("urgency", "utter_triage_urgency", ["today", "this_week", "not_urgent"]),
    ("specialist_gender", "utter_triage_gender", ["woman", "man", "any"]),
    ("mode", "utter_triage_mode", ["online", "in_person", "any"]),
]
TRIAGE_SLOTS = ["triage", *(slot for slot, _, _ in QUESTIONS)]


def triage_step(session: Session, caller: Caller, tracker: Tracker) -> Outcome:
    """Ask the next unanswered question, or file the referral when all are answered."""
    if tracker.get_slot("triage") != "consented":
        choices = [{"key": "yes", "payload": "/affirm"}, {"key": "no", "payload": "/deny"}]
        return Outcome([Say("utter_triage_consent", choices=choices)], [SlotSet("pending", "triage_consent")])
    for slot, question, options in QUESTIONS:
        if tracker.get_slot(slot) not in options:
            choices = [{"word": f"{slot}.{option}", "payload": f'/request_psych_support{{"{slot}": "{option}"}}'}
                       for option in options]
            return Outcome([Say(question, choices=choices)])
    support.create_referral(
        session, caller.conversation_id, caller.person.id if caller.person else None,
        concern=tracker.get_slot("concern"), urgency=tracker.get_slot("urgency"),
        specialist_gender=tracker.get_slot("specialist_gender"), mode=tracker.get_slot("mode"),
        language=caller.language,
    )
    return Outcome([Say("utter_referral_created")], [SlotSet(slot, None) for slot in TRIAGE_SLOTS])


class PsychSupport(ServiceAction):
    """`request_psych_support`: the triage, one question at a time, with consent first."""

    def name(self) -> str:
        return "action_psych_support"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        return triage_step(session, caller, tracker)


class Crisis(ServiceAction):
    """`crisis`: the country's crisis contacts at once, and an urgent alert for the caseworker."""

    def name(self) -> str:
        return "action_crisis"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        person_id = caller.person.id if caller.person else None
        support.create_handoff(session, caller.conversation_id, person_id, "crisis", priority="urgent")
        support.create_referral(
            session, caller.conversation_id, person_id, concern="crisis", urgency="now", language=caller.language,
            crisis=True,
        )
        values = {"country": caller.person.country} if caller.person else {}
        return Outcome([Say("utter_crisis", values)], [SlotSet("pending", None)])


class TalkToHuman(ServiceAction):
    """`talk_to_human`: a handoff for the caseworker, and when they answer."""

    def name(self) -> str:
        return "action_talk_to_human"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        support.create_handoff(session, caller.conversation_id, caller.person.id if caller.person else None, "asked")
        return Outcome([Say("utter_human")])


class OptOut(ServiceAction):
    """`opt_out`: no more messages of any kind until the person opts back in."""

    def name(self) -> str:
        return "action_opt_out"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if caller.person is not None:
            people.opt_out(session, caller.person, f"person:{caller.person.id}")
        return Outcome([Say("utter_opt_out")])
