"""Rasa component: word and character n-gram counts of each message's script-neutral spelling.

Replaces the stock `CountVectorsFeaturizer`s. The tokens the tokenizer found are rewritten with
`bot.nlp.romanize.romanize` before counting, so "не могу спать", "ne mogu spat" and "не могу
спат" share their features; with seven languages in three scripts that pools the training data
the classifier gets for each way of writing. With `language_weight` > 0 the counts are also
copied into a block of the language the `LanguageDetector` (earlier in the pipeline) found, so
a word can weigh differently in Russian and in Kazakh. Only sentence features are produced: the
intent classifier uses nothing else, and the entity extractor has its own features.
"""

from __future__ import annotations

import json
from typing import Any

import numpy
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import CountVectorizer

from bot.nlp.languages import LANGUAGES
from bot.nlp.romanize import romanize

_VOCABULARY_FILE = "vocabularies.json"


def _words(text: str) -> list[str]:
    return text.split()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class RomanizedCountVectors(SparseFeaturizer, GraphComponent):
    """Counts words and `char_wb` n-grams (`min_ngram`..`max_ngram`) of the romanized tokens."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**SparseFeaturizer.get_default_config(), "min_ngram": 2, "max_ngram": 5, "language_weight": 0.0}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if not 1 <= config["min_ngram"] <= config["max_ngram"]:
            raise ValueError("RomanizedCountVectors needs 1 <= min_ngram <= max_ngram")

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        vocabularies: dict[str, dict[str, int]] | None = None,
    ) -> None:
        super().__init__(execution_context.node_name, config)
        self.model_storage = model_storage
        self.resource = resource
        self.vectorizers: list[CountVectorizer] = []
        if vocabularies is not None:
            self._build(vocabularies["words"], vocabularies["chars"])

    def _build(self, words: dict[str, int] | None = None, chars: dict[str, int] | None = None) -> None:
        ngrams = (self._config["min_ngram"], self._config["max_ngram"])
        self.vectorizers = [
            CountVectorizer(analyzer=_words, vocabulary=words),
            CountVectorizer(analyzer="char_wb", ngram_range=ngrams, lowercase=False, vocabulary=chars),
        ]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RomanizedCountVectors:
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RomanizedCountVectors:
        with model_storage.read_from(resource) as directory:
            vocabularies = json.loads((directory / _VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, execution_context, vocabularies)

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the vocabularies from the training examples and store them as JSON."""
        self._build()
        texts = [_romanized(example) for example in training_data.training_examples if example.get(TEXT)]
        for vectorizer in self.vectorizers:
            vectorizer.fit(texts)
        vocabularies = {
            name: {term: int(index) for term, index in vectorizer.vocabulary_.items()}
            for name, vectorizer in zip(("words", "chars"), self.vectorizers, strict=True)
        }
        with self.model_storage.write_to(self.resource) as directory:
            (directory / _VOCABULARY_FILE).write_text(json.dumps(vocabularies, ensure_ascii=False), encoding="utf-8")
        return self.resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Add each message's sentence features (all messages at once: one vectorizer call each)."""
        with_text = [message for message in messages if message.get(TEXT)]
        if not with_text or not self.vectorizers:
            return messages
        texts = [_romanized(message) for message in with_text]
        counts = scipy.sparse.hstack([v.transform(texts) for v in self.vectorizers]).tocsr()
        if self._config["language_weight"]:
            counts = self._with_language_copies(counts, [_language(message) for message in with_text])
        for row, message in enumerate(with_text):
            self.add_features_to_message(None, counts[row].tocoo(), TEXT, message)
        return messages

    def _with_language_copies(
        self, counts: scipy.sparse.csr_matrix, languages: list[str | None]
    ) -> scipy.sparse.csr_matrix:
        """Append one copy of the counts per language, filled only in the message's own language's copy
        (scaled by `language_weight`): the classifier can learn what a word means in one language
        while the shared counts carry what it means in all of them."""
        rows, width = counts.shape
        entries = counts.tocoo()
        block = numpy.array([LANGUAGES.index(tag) + 1 if tag in LANGUAGES else 0 for tag in languages])
        own = block[entries.row] > 0
        copies = scipy.sparse.coo_matrix(
            (
                entries.data[own] * self._config["language_weight"],
                (entries.row[own], entries.col[own] + width * block[entries.row[own]]),
            ),
            shape=(rows, width * (1 + len(LANGUAGES))),
        )
        shared = scipy.sparse.csr_matrix((counts.data, counts.indices, counts.indptr), shape=copies.shape)
        return (shared + copies).tocsr()


def _language(message: Message) -> str | None:
    """The language the `LanguageDetector` (earlier in the pipeline) found, if any."""
    detected = message.get("language")
    return detected.get("name") if isinstance(detected, dict) else None


def _romanized(message: Message) -> str:
    """The message's tokens, romanized and joined by spaces."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return " ".join(romanize(token.text) for token in tokens) or romanize(message.get(TEXT))
