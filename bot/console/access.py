"""Who may do what in the console (need-to-know, as in Primero). Which people each account may
see is the query in `bot/repositories/caseload.py`; this module is the policy."""

from __future__ import annotations

import enum

from bot.db.models import Role


class Can(str, enum.Enum):
    """One thing a console page lets someone do."""

    WORK_INBOX = "work_inbox"  # see and take items, reply, write notes
    READ_PEOPLE = "read_people"  # the people list and person pages (within the caseload)
    EDIT_PEOPLE = "edit_people"  # link codes, channels, appointments, documents (within the caseload)
    REASSIGN = "reassign"  # give people and items to another caseworker
    READ_AUDIT = "read_audit"  # a person's audit trail
    MANAGE = "manage"  # accounts, courses, settings
    SEE_TOTALS = "see_totals"  # counts and charts, no personal data


ALLOWED: dict[Role, frozenset[Can]] = {
    Role.CASEWORKER: frozenset({Can.WORK_INBOX, Can.READ_PEOPLE, Can.EDIT_PEOPLE}),
    Role.SUPERVISOR: frozenset({Can.WORK_INBOX, Can.READ_PEOPLE, Can.EDIT_PEOPLE, Can.REASSIGN, Can.READ_AUDIT,
                                Can.SEE_TOTALS}),
    Role.ADMIN: frozenset(Can),
    Role.ANALYST: frozenset({Can.SEE_TOTALS}),
}


def allowed(role: Role, what: Can) -> bool:
    """True if `role` may do `what`."""
    return what in ALLOWED[role]
