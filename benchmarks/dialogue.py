"""`make bench-dialogue`: whole conversations, and crisis false alarms on harmless messages.

Starts the app and the real engine with the fake providers (as the end-to-end tests do), plays
every conversation of `tests/conversations/`, and prints per language and channel how many
conversations ran, how many met every expectation, and how many expectations were met. Then it
sends the held-out harmless messages (`harmless:` in `tests/data/heldout/<tag>.yml`: idioms,
housing, course names, grief …) to the engine's parser and counts crisis alarms: the crisis
lexicon (which the app checks first) and the classifier's crisis at or above the confidence the
actions treat as a crisis. Crisis recall on the held-out crisis phrasings is printed beside it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from bot.nlp.intent_rules import CRISIS_CONFIDENCE
from bot.nlp.languages import LANGUAGES
from bot.responses.catalog import Catalog
from bot.safety.crisis import CrisisLexicon
from tests.e2e.conftest import CHANNEL_ENV, Services, fake_providers, started_services
from tests.e2e.dialogue import Outcome, Runner, load
from tests.heldout import heldout


def conversations(runner: Runner) -> list[Outcome]:
    outcomes = []
    for conversation in load():
        outcome = runner.run(conversation)
        outcomes.append(outcome)
        for failure in outcome.failures:
            print(f"  not met: {conversation.id}: {failure}", file=sys.stderr)
    return outcomes


def print_conversations(outcomes: list[Outcome]) -> None:
    rows: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        rows[(outcome.conversation.language, outcome.conversation.channel)].append(outcome)
    print("\n| language | channel | conversations | all met | expectations met |")
    print("|---|---|---|---|---|")
    for language in LANGUAGES:
        for channel in ("telegram", "sms"):
            found = rows.get((language, channel), [])
            if not found:
                continue
            passed = sum(1 for o in found if not o.failures)
            met, total = sum(o.met for o in found), sum(o.expectations for o in found)
            print(f"| {language} | {channel} | {len(found)} | {passed} | {met}/{total} |")
    passed = sum(1 for o in outcomes if not o.failures)
    met, total = sum(o.met for o in outcomes), sum(o.expectations for o in outcomes)
    print(f"| all | both | {len(outcomes)} | {passed} | {met}/{total} |")


def harmless(language: str) -> list[str]:
    try:
        return heldout(language, "harmless")
    except KeyError:
        return []


def false_alarms(services: Services) -> None:
    lexicon = CrisisLexicon.load()
    print("\n| language | harmless | lexicon alarms | classifier alarms | false-alarm rate | crisis recall (lexicon) |")
    print("|---|---|---|---|---|---|")
    totals = [0, 0, 0]
    for language in LANGUAGES:
        messages = harmless(language)
        by_lexicon = [m for m in messages if lexicon.match(m) is not None]
        by_classifier = []
        for message in messages:
            if message in by_lexicon:
                continue
            intent = services.parse(message).get("intent") or {}
            if intent.get("name") == "crisis" and float(intent.get("confidence") or 0) >= CRISIS_CONFIDENCE:
                by_classifier.append(message)
        crisis = heldout(language, "crisis")
        recall = sum(1 for m in crisis if lexicon.match(m) is not None) / len(crisis)
        alarms = len(by_lexicon) + len(by_classifier)
        rate = f"{alarms / len(messages):.3f}" if messages else "-"
        print(f"| {language} | {len(messages)} | {len(by_lexicon)} | {len(by_classifier)} | {rate} | {recall:.3f} |")
        for message in by_lexicon + by_classifier:
            print(f"  false alarm ({language}): {message}", file=sys.stderr)
        totals = [totals[0] + len(messages), totals[1] + len(by_lexicon), totals[2] + len(by_classifier)]
    rate = f"{(totals[1] + totals[2]) / totals[0]:.3f}" if totals[0] else "-"
    print(f"| all | {totals[0]} | {totals[1]} | {totals[2]} | {rate} | |")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    with tempfile.TemporaryDirectory() as directory, fake_providers() as fakes, \
            started_services(Path(directory), fakes) as services:
        runner = Runner(services.settings.app_url, services.database, fakes, Catalog.load("uz"), CHANNEL_ENV)
        print_conversations(conversations(runner))
        false_alarms(services)


if __name__ == "__main__":
    main()
