"""Language identification: a naive Bayes model over character n-grams.

Trained on the NLU examples of each language (`nlu_data/<tag>.yml`), it tells the seven
languages apart, including Uzbek in Latin and in Cyrillic script and Kazakh or Kyrgyz
typed without their special letters. Pure Python, so the engine and the app share it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.nlp.languages import LANGUAGES, SCRIPTS, dominant_script
from bot.nlp.normalize import normalize_text

_WORD = re.compile(r"[^\W\d_]+(?:ʻ[^\W\d_]+)*")
_MAX_NGRAM = 4
_SMOOTHING = 0.3
#: Log-likelihoods of naive Bayes are far too sure of themselves; dividing by this
#: power of the feature count gives confidences that rise with the message's length.
_TEMPERATURE_EXPONENT = 0.5


@dataclass(frozen=True)
class Detection:
    """The most likely language of a message, how sure the model is, and the word count."""

    language: str
    confidence: float
    words: int


def words_of(text: str) -> list[str]:
    """Return the lower-case words (letters only) of `text`."""
    return _WORD.findall(normalize_text(text).lower())


def features(words: list[str]) -> list[str]:
    """Return character 1-4-grams of each padded word, plus the words themselves."""
    found: list[str] = []
    for word in words:
        padded = f" {word} "
        for size in range(1, _MAX_NGRAM + 1):
            found.extend(padded[i : i + size] for i in range(len(padded) - size + 1))
        found.append(f"w:{word}")
    return found


class LanguageIdentifier:
    """Multinomial naive Bayes over `features`, restricted to the message's script."""

    def __init__(self, counts: dict[str, dict[str, int]]) -> None:
        self.counts = counts
        self.totals = {language: sum(c.values()) for language, c in counts.items()}
        vocabulary: set[str] = set()
        for language_counts in counts.values():
            vocabulary.update(language_counts)
        self.vocabulary_size = len(vocabulary) + 1

    @classmethod
    def train(cls, samples: Iterable[tuple[str, str]]) -> LanguageIdentifier:
        """Build a model from (language, text) pairs."""
        counters: dict[str, Counter[str]] = {language: Counter() for language in LANGUAGES}
        for language, text in samples:
            counters[language].update(features(words_of(text)))
        return cls({language: dict(counter) for language, counter in counters.items() if counter})

    def to_dict(self) -> dict[str, dict[str, int]]:
        """Return the model's counts, ready for JSON."""
        return self.counts

    def detect(self, text: str, fallback: str = "en") -> Detection:
        """Return the most likely language of `text` (`fallback`, confidence 0, if no letters)."""
        words = words_of(text)
        script = dominant_script(" ".join(words))
        candidates = [
            language
            for language in self.counts
            if script is None or script in SCRIPTS[language]
        ]
        if not words or not candidates:
            return Detection(fallback, 0.0, len(words))
        feats = features(words)
        scores = {language: self._log_likelihood(language, feats) for language in candidates}
        scale = len(feats) ** _TEMPERATURE_EXPONENT
        best = max(scores, key=lambda language: scores[language])
        norm = sum(math.exp((score - scores[best]) / scale) for score in scores.values())
        return Detection(best, round(1.0 / norm, 4), len(words))

    def _log_likelihood(self, language: str, feats: list[str]) -> float:
        counts = self.counts[language]
        denominator = math.log(self.totals[language] + _SMOOTHING * self.vocabulary_size)
        return sum(math.log(counts.get(f, 0) + _SMOOTHING) - denominator for f in feats)
