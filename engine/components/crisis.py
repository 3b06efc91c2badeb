"""Rasa component: the crisis safety net beside the intent classifier.

Runs after the classifier and the fallback classifier. When a crisis pattern matches, the
intent becomes `crisis` whatever the classifier said, and the parse result records which
lexicon entry fired (`crisis_lexicon`), so the override is visible and testable.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.safety.crisis import CrisisLexicon

CRISIS_INTENT = "crisis"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CrisisSafetyNet(GraphComponent):
    """Overrides the predicted intent with `crisis` when the lexicon matches."""

    def __init__(self, lexicon: CrisisLexicon) -> None:
        self.lexicon = lexicon

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CrisisSafetyNet:
        return cls(CrisisLexicon.load())

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            match = None if text.startswith("/") else self.lexicon.match(text)
            if match is None:
                continue
            override = {"name": CRISIS_INTENT, "confidence": 1.0}
            ranking = [
                entry
                for entry in message.get(INTENT_RANKING_KEY) or []
                if entry.get("name") != CRISIS_INTENT
            ]
            message.set(INTENT, override, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [override, *ranking], add_to_output=True)
            message.set(
                "crisis_lexicon",
                {"language": match.language, "entry": match.index},
                add_to_output=True,
            )
        return messages
