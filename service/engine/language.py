"""Which language a report is written in, read from its text.

The form asks the reporter for a language, but people pick the default, or write in another
language than the page's. The text is the better witness when it is long enough and the
detector is sure: the detected language is then the one the report is scrubbed, scored and
routed in. Detection runs offline with Lingua (no text leaves the process) on a short list
of languages, the offered ones plus a few common others, which keeps it fast and small (about
40 MB and 0.2 s to build in low-accuracy mode; figures in bench/README.md). A text in a
language that is not offered keeps the form's language for routing, and is recorded as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from service.vocab import LANGUAGES

# The offered languages plus common others, so a Russian text is not called Polish.
_DETECTED = (
    Language.ENGLISH,
    Language.GERMAN,
    Language.FRENCH,
    Language.SPANISH,
    Language.DUTCH,
    Language.POLISH,
    Language.ITALIAN,
    Language.PORTUGUESE,
    Language.RUSSIAN,
    Language.UKRAINIAN,
    Language.ARABIC,
    Language.HEBREW,
    Language.CHINESE,
    Language.TURKISH,
    Language.ROMANIAN,
    Language.CZECH,
)
# Below this many words the detector guesses; the form's choice is the better answer.
MIN_WORDS = 4
# Lingua's relative confidence in its first choice, among the languages above.
MIN_CONFIDENCE = 0.6


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    """`language` is what the report is scrubbed, scored and routed in (always offered);
    `detected` is what the text reads as (any ISO 639-1 code), or None when unsure."""

    language: str
    form_language: str
    detected: str | None
    confidence: float

    @property
    def overridden(self) -> bool:
        return self.language != self.form_language


@cache
def _detector() -> LanguageDetector:
    # Built on first use, not at import: the app factory imports this module.
    return LanguageDetectorBuilder.from_languages(*_DETECTED).with_low_accuracy_mode().build()


def detect(text: str) -> tuple[str | None, float]:
    """(ISO 639-1 code, confidence) of the text's language, or (None, 0.0) when unsure."""
    if len(text.split()) < MIN_WORDS:
        return None, 0.0
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return None, 0.0
    best = values[0]
    if best.value < MIN_CONFIDENCE:
        return None, float(best.value)
    return best.language.iso_code_639_1.name.lower(), float(best.value)


def choose_language(text: str, form_language: str | None) -> LanguageChoice:
    """The language to treat the report as: the detected one when it is sure and offered,
    else the form's choice (English when the form gave none)."""
    chosen = form_language if form_language in LANGUAGES else "en"
    detected, confidence = detect(text)
    language = detected if detected in LANGUAGES else chosen
    return LanguageChoice(language, chosen, detected, round(confidence, 3))


__all__ = ["LanguageChoice", "choose_language", "detect"]
