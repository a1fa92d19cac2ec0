"""How ordinary a word is, and whether it is a given name: the scrubber's signals for names
that are in no directory and have no cue word.

* Word frequencies come from ``wordfreq``'s "small" lists (words used at least once per
  million, per language; about 30,000-50,000 each, some 6 MB in memory per language). A
  capitalised word that is in neither the report's language's list nor the English one is
  rare as an ordinary word, so most likely a name ("Okafor", "Kowalski", "Nguyen").
* Given names come from the name list that ships with ``gender-guesser`` (Jörg Michael's
  ``nam_dict``: about 48,000 first names with their frequency in each European country),
  for the common names that are frequent words too ("John", "Anna", "Jan").

Both load once per process, on first use, and only for the languages a report is in.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources

from wordfreq import get_frequency_dict

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "nl", "pl", "it", "pt")
RARE_ZIPF = 3.0  # below the small lists' floor: not a word people use every day

_NAMES_FILE = ("gender_guesser", "data/nam_dict.txt")
_NAME_COLUMNS = slice(30, -1)  # one hex frequency (1 rare .. D very common) per country
_MIN_NAME_FREQUENCY = 2  # drop the rarest entries, which include odd words ("just", "el")


@cache
def _zipf_table(language: str) -> dict[str, float]:
    if language not in LANGUAGES:
        language = "en"
    return {
        word: math.log10(frequency) + 9.0
        for word, frequency in get_frequency_dict(language, wordlist="small").items()
    }


def zipf(word: str, language: str) -> float:
    """Zipf frequency (log10 per billion words) of ``word`` in ``language``; 0 if rare."""
    return _zipf_table(language).get(word.casefold(), 0.0)


def is_rare(word: str, language: str) -> bool:
    """Rare in the report's language and in English (which reports in any language borrow)."""
    return zipf(word, language) < RARE_ZIPF and (language == "en" or zipf(word, "en") < RARE_ZIPF)


@cache
def _given_names() -> dict[str, int]:
    names: dict[str, int] = {}
    path = resources.files(_NAMES_FILE[0]).joinpath(_NAMES_FILE[1])
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line[:1] in "#=" or len(line) < 31:
                continue
            values = [int(c, 16) for c in line[_NAME_COLUMNS] if c in "0123456789ABCDEF"]
            best = max(values, default=0)
            if best < _MIN_NAME_FREQUENCY:
                continue
            # "+" joins parts that are written together, apart or hyphenated: "Jean+Pierre".
            for name in line.split()[1].casefold().replace("+", " ").split():
                names[name] = max(names.get(name, 0), best)
    return names


def given_name_frequency(word: str) -> int:
    """0 if ``word`` is no given name, else 2 (uncommon) to 13 (very common somewhere)."""
    return _given_names().get(word.casefold(), 0)


def warm(languages: tuple[str, ...] = LANGUAGES) -> None:
    """Load everything now (at app start), not in the first reporter's request."""
    _given_names()
    for language in languages:
        _zipf_table(language)
