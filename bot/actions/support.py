"""Psychological support (consented triage, then a referral), crisis and distress, a human
handoff, and opting out of (or back into) messages."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from sqlalchemy.orm import Session

from bot.actions import pending
from bot.actions.common import Caller, Outcome, Say, ServiceAction, intent_confidence, written
from bot.actions.conversation import latest_user_metadata
from bot.nlp.intent_rules import CRISIS_CONFIDENCE, UNSURE_CONFIDENCE
from bot.repositories import identities, people, support

#: Triage questions in order: slot, reply asking it, options.
QUESTIONS = [
    ("concern", "utter_triage_concern", ["sleep", "anxiety", "family", "children", "other"]),
    ("urgency", "utter_triage_urgency", ["today", "this_week", "not_urgent"]),
    ("specialist_gender", "utter_triage_gender", ["woman", "man", "any"]),
    ("mode", "utter_triage_mode", ["online", "in_person", "any"]),
]
TRIAGE_SLOTS = ["triage", *(slot for slot, _, _ in QUESTIONS)]
YES_NO = [{"key": "yes", "payload": "/affirm"}, {"key": "no", "payload": "/deny"}]


def triage_step(session: Session, caller: Caller, tracker: Tracker) -> Outcome:
    """Ask the next unanswered question, or file the referral when all are answered."""
    if tracker.get_slot("triage") != "consented":
        return Outcome([Say("utter_triage_consent", choices=YES_NO)],
                       pending.ask("triage_consent", caller.now.timestamp()))
    for slot, question, options in QUESTIONS:
        if tracker.get_slot(slot) not in options:
            choices = [{"word": f"{slot}.{option}", "payload": f'/request_psych_support{{"{slot}": "{option}"}}'}
                       for option in options]
            return Outcome([Say(question, choices=choices)])
    support.create_referral(
        session, caller.conversation_id, caller.person.id if caller.person else None,
        concern=tracker.get_slot("concern"), urgency=tracker.get_slot("urgency"),
        specialist_gender=tracker.get_slot("specialist_gender"), mode=tracker.get_slot("mode"),
        language=caller.language, identity_id=caller.identity.id if caller.identity else None,
    )
    return Outcome([Say("utter_referral_created")], [SlotSet(slot, None) for slot in TRIAGE_SLOTS])


class PsychSupport(ServiceAction):
    """`request_psych_support`: the triage, one question at a time, with consent first."""

    def name(self) -> str:
        return "action_psych_support"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        return triage_step(session, caller, tracker)


def end_everything() -> list[EventType]:
    """Events that end whatever was going on: the open question, the triage, any loop."""
    return [*pending.close(), *(SlotSet(slot, None) for slot in TRIAGE_SLOTS), ActiveLoop(None)]


def is_crisis(tracker: Tracker) -> bool:
    """The lexicon matched, a button or the app sent `/crisis`, or the classifier is sure enough
    (CRISIS_CONFIDENCE); otherwise the message is answered as distress, without an alarm."""
    return bool((tracker.latest_message or {}).get("crisis_lexicon")) or not written(tracker) or (
        intent_confidence(tracker) >= CRISIS_CONFIDENCE)


class Crisis(ServiceAction):
    """`crisis`: the country's crisis contacts at once, and an urgent alert for the caseworker.

    When the app has already answered (`crisis_handled`), only ends what was going on; an
    unsure classification without the lexicon is answered as distress, without an alarm.
    """

    def name(self) -> str:
        return "action_crisis"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if latest_user_metadata(tracker).get("crisis_handled") is True:
            return Outcome([], end_everything())
        if not is_crisis(tracker):
            return Outcome([Say("utter_distress")], end_everything())
        person_id = caller.person.id if caller.person else None
        identity_id = caller.identity.id if caller.identity else None
        support.create_handoff(session, caller.conversation_id, person_id, "crisis", priority="urgent",
                               identity_id=identity_id, language=caller.language, message=caller.message)
        support.create_referral(
            session, caller.conversation_id, person_id, concern="crisis", urgency="now", language=caller.language,
            crisis=True, identity_id=identity_id,
        )
        values = {"country": caller.person.country} if caller.person else {}
        reply = "utter_crisis" if caller.reachable else "utter_crisis_unreachable"
        return Outcome([Say(reply, values)], end_everything())


class Distress(ServiceAction):
    """`distress` (hopeless, worthless, lonely, grieving): support is offered, nothing changes."""

    def name(self) -> str:
        return "action_distress"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        return Outcome([Say("utter_distress")])


def hand_off(session: Session, caller: Caller, message: str) -> Outcome:
    """A handoff the caseworker can answer on this account, and when they answer."""
    support.create_handoff(
        session, caller.conversation_id, caller.person.id if caller.person else None, "asked",
        identity_id=caller.identity.id if caller.identity else None, language=caller.language, message=message,
    )
    return Outcome([Say("utter_human" if caller.reachable else "utter_human_unreachable")])


class TalkToHuman(ServiceAction):
    """`talk_to_human`: a handoff; when the classifier is unsure ("leave me alone"), asked first."""

    def name(self) -> str:
        return "action_talk_to_human"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if caller.message and intent_confidence(tracker) < UNSURE_CONFIDENCE:
            return Outcome([Say("utter_ask_human", choices=YES_NO)], pending.ask("human", caller.now.timestamp()))
        return hand_off(session, caller, caller.message)


def opt_out(session: Session, caller: Caller) -> Outcome:
    """Stop every message to this account and, if linked, to the person."""
    if caller.identity is not None:
        identities.set_opted_out(session, caller.identity, True)
    elif caller.person is not None:
        people.opt_out(session, caller.person, f"person:{caller.person.id}")
    return Outcome([Say("utter_opt_out")])


class OptOut(ServiceAction):
    """`opt_out`: understood from free text it is never applied at once: the person is asked."""

    def name(self) -> str:
        return "action_opt_out"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if not written(tracker):
            return opt_out(session, caller)
        choices = [*YES_NO, {"key": "support", "payload": "/request_psych_support"}]
        return Outcome([Say("utter_ask_opt_out", choices=choices)], pending.ask("opt_out", caller.now.timestamp()))


class OptIn(ServiceAction):
    """`opt_in`: messages resume for this account and the person."""

    def name(self) -> str:
        return "action_opt_in"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        identity = caller.identity
        if identity is not None and (identity.opted_out or (caller.person is not None and caller.person.opted_out)):
            identities.set_opted_out(session, identity, False)
        return Outcome([Say("utter_opt_in")])
