"""Scrub personal data from report free text before anything is stored.

What is replaced, and with which marker:

==============  ============  ==========================================================
kind            marker        found by
==============  ============  ==========================================================
``email``       ``[email]``   ``local@domain.tld`` (RFC 5322 dot-atom local part)
``url``         ``[url]``     ``http(s)://``, ``ftp://``, ``www.`` and bare ``host.tld/...``
``phone``       ``[phone]``   a regex for digit groups (see "Phone numbers" below)
``staff id``    ``[staff id]``  the configurable ``staff_id_patterns`` (case-insensitive)
``name``        ``[name]``    the staff directory plus cue words (see "Names" below)
==============  ============  ==========================================================

Overlapping finds are merged into one marker covering both (so an ID that runs into a phone
number cannot leave half of the number behind). ``ScrubResult.counts`` and ``.spans``
describe every marker in the scrubbed text, markers that were already in the input
included; scrubbing is therefore idempotent on the whole result, not just the text.

Why no library
--------------
* ``phonenumbers`` (checked, version 9.0): its ``VALID`` leniency rejects the reserved
  fictional ranges people also use in examples (07700 900123, 555-123-4567) and any
  mistyped number, which for scrubbing are still personal data; its ``POSSIBLE`` leniency
  flags bare years such as "2023" as numbers; and its matcher alone costs about 2 ms on
  5,000 characters. One regex with digit-count rules is faster and easier to reason about.
* Presidio: its analyzer loads a spaCy model (a download at install or run time) even when
  only pattern recognizers are wanted, and its phone recognizer is ``phonenumbers`` again.
* scrubadub: its name detector needs TextBlob/NLTK corpora (another download); its email
  and URL detectors are plain regexes like the ones here.
So everything below is the standard library, fully offline.

Phone numbers
-------------
Digit groups separated by single spaces, hyphens or brackets (``(555) 123-4567``,
``+44 (0)20 7946 0958``), or dotted groups (``555.123.4567``). A match is a phone number
when it has 9 digits or more, or 8 or more after a ``+``/``00`` international prefix, or is
the US local shape ``123-4567``. There is no upper bound, so two numbers typed back to back
(or a card number) go as well. Dates (``12/03/2024``, ``2024-03-12``, ``12.03.24``) and times
(``10:30``, ``10.30``) are masked first so a date next to a time does not add up to a
"number". Shorter figures (``£1,500``, ``2023``, ``3 of us``) stay. A run of three or more
space-separated years (``2019 2020 2021``) is redacted; that is the accepted cost of catching
``020 7946 0958``.

Names
-----
Text is split into words (letters, with inner apostrophes and hyphens). A word is redacted
as a name when:

1. it is part of a **full directory name** written out (``Priya Sharma``, ``priya sharma``;
   a first + last pair also matches when the directory has a middle name). Case-insensitive,
   except that a name made only of ordinary words (``Mark Young``) needs its first word
   capitalised.
2. it is a **single directory name part**, by class (see ``wordlists``):

   * a distinctive name (``Priya``, ``Okafor``): always, in any case, anywhere;
   * a name that is also an ordinary word (``Will``, ``Grace``, ``Mark``, ``Bill``,
     ``Hope``): only when written ``Capitalised`` *and* not the first word of a sentence,
     or right after a cue word, or at a sentence start when a reporting verb follows
     (``Grace said``, ``Will was``) or it is possessive (``Mark's``);
   * a word English always capitalises (``May``, ``June``, ``Christian``): only right after
     a cue word, or when a reporting verb follows (``May said``);
   * a pronoun, function or workplace word (``I``, ``Manager``, ``HR``): never on its own.
3. it follows a **cue word** and is capitalised: a title (``Mr``, ``Mrs``, ``Ms``, ``Mx``,
   ``Dr``, ``Prof``, ``Sir``, ``Dame``...: ``Mrs Patel``, ``Dr. Okafor``), a naming verb
   (``called``, ``named``, ``known as``, ``name is``) or a role noun written in lower case
   or after a possessive (``my manager John``, ``a colleague called Sam``,
   ``my line manager, Priya``). Function and workplace words never count as names here,
   and after a role noun neither do days, months or holidays (``my manager Monday``).
4. it is a capitalised word **next to a redacted name** (``John Smith from accounts`` when
   only John or only Smith is in the directory; ``Dr Ngozi Okafor``; ``my manager John
   Miller``), unless it is a function/workplace word or a day, month or holiday. Before a
   name at a sentence start, where the capital says nothing, an ordinary word is not taken
   (``Young Smith``; ``Apparently Smith`` is safe as the adverb is a function word). An
   initial such as ``J.`` just before a name goes with it.

Adjacent name words become one ``[name]``; titles and cue words stay (``Mrs [name]``).
Known limits: a name not in the directory, with no cue, is not found (``then Priya
shouted``); a staff name written only in lower case that is also an ordinary word is not
redacted. The preview page shows the reporter what was removed so they can fix the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from service.privacy import lexicon
from service.privacy.identifiers import KINDS as IDENTIFIER_KINDS
from service.privacy.identifiers import identifier_spans
from service.privacy.wordlists import (
    ARTICLES,
    CAPITALISED_WORDS,
    KEEP_WORDS,
    LOWER_CASE_NAME_CUES,
    NAME_PARTICLES,
    NAME_WORDS,
    NEVER_NAMES,
    TITLES,
    TITLES_NEED_CAPITAL,
)

DEFAULT_STAFF_ID_PATTERNS: tuple[str, ...] = (r"\b(?:EMP|E|ID)[-_ ]?\d{4,8}\b",)

KIND_NAME = "name"
KIND_EMAIL = "email"
KIND_PHONE = "phone"
KIND_URL = "url"
KIND_STAFF_ID = "staff id"
KINDS: tuple[str, ...] = (
    KIND_NAME,
    KIND_EMAIL,
    KIND_PHONE,
    KIND_URL,
    KIND_STAFF_ID,
    *IDENTIFIER_KINDS,
)


def marker(kind: str) -> str:
    return f"[{kind}]"


@dataclass(frozen=True)
class ScrubResult:
    text: str
    counts: dict[str, int] = field(default_factory=dict)
    """kind -> number of markers of that kind in ``text``; kinds with none are left out."""
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    """(start, end, kind) of every marker in ``text``, in order."""


# --- patterns -------------------------------------------------------------------------

_MARKER_RE = re.compile(r"\[(" + "|".join(re.escape(kind) for kind in KINDS) + r")\]")

# Each pattern below is only tried where a cheap hint says it can match ("@", "://", ".com",
# a digit): 5,000 characters must scrub in well under 5 ms, and most text has none of these.

# RFC 5322 dot-atom local part; found by walking back from each "@".
_EMAIL_LOCAL_PUNCTUATION = frozenset(".!#$%&'*+/=?^_`{|}~-")
_EMAIL_DOMAIN_RE = re.compile(r"[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+")

_URL_TLDS = r"(?:com|org|net|edu|gov|io|co|uk|ly|me|info|biz|dev|app|ai|us|eu|de|fr|ie|au|ca)"
_URL_HINT_RE = re.compile(rf"://|www\.|\.{_URL_TLDS}\b", re.IGNORECASE)
_URL_RE = re.compile(
    r"(?<![\w@.])(?:"
    r"(?:https?|ftp)://[^\s<>\"'\[\]{}]+"
    r"|www\.[^\s<>\"'\[\]{}]+"
    rf"|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.{_URL_TLDS}\b(?:/[^\s<>\"'\[\]{{}}]*)?"
    r")",
    re.IGNORECASE,
)
# Sentence punctuation and openers never end a URL, so the text after it reads the same
# once the URL is a marker.
_URL_TRAILING = ".,;:!?'\")(*-•["

_DIGIT_RE = re.compile(r"\d")
# Dates and times are hidden from the phone pattern so "2024-03-12 14" is not a number.
# (Written to start with \d, not \b: the regex engine then skips ahead to digits quickly.)
_DATE_TIME_RE = re.compile(
    r"\d(?<!\w\d)(?:\d{3}[-/.]\d{1,2}[-/.]\d{1,2}|\d?[-/.]\d{1,2}[-/.]\d{2,4}|\d?[:.]\d{2})\b"
)
_PHONE_SEP = r"(?:[ -]|\ -\ )"
_PHONE_RE = re.compile(
    r"(?=[\d(+])(?<![\w+])(?:"
    # dotted: 555.123.4567
    r"\d{2,5}(?:\.\d{2,5}){2,4}"
    r"|"
    # groups separated by a space or hyphen, brackets allowed: +44 (0)20 7946 0958
    rf"(?:\+\ ?)?(?:\(\+?\d{{1,5}}\)|\d++)"
    rf"(?:{_PHONE_SEP}?\(\d{{1,5}}\)|{_PHONE_SEP}\d++|(?<=\))\d++)*+"
    r")"
)
_US_LOCAL_RE = re.compile(r"\d{3}[-.]\d{4}")

_WORD_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- cue words ------------------------------------------------------------------------

_TITLES = TITLES
# Titles that are also ordinary lower-case words only count when capitalised.
_TITLES_NEED_CAPITAL = TITLES_NEED_CAPITAL
_NAMING_VERBS = _word_set("called named nicknamed")
_NAMING_PHRASES = frozenset({("known", "as"), ("name", "is"), ("goes", "by")})
_ROLE_NOUNS = _word_set(
    """manager managers boss bosses supervisor supervisors colleague colleagues coworker
    coworkers co-worker co-workers teammate teammates director lead leader head chief ceo
    mentor trainer assistant officer rep representative partner friend senior junior
    foreman forewoman supervisor deputy coordinator administrator
    chef chefin vorgesetzter vorgesetzte teamleiter teamleiterin kollege kollegin
    abteilungsleiter abteilungsleiterin schichtleiter schichtleiterin leiter leiterin
    cheffe responsable directeur directrice collègue supérieur supérieure
    jefe jefa encargado encargada compañero compañera supervisora director directora
    baas leidinggevende collega teamleider
    szef szefowa kierownik kierowniczka przełożony przełożona kolega koleżanka dyrektor
    dyrektorka capo responsabile direttore direttrice
    chefe gerente colega encarregado encarregada diretor diretora"""
)
# Before a capitalised role noun ("Mein Chef Brandstetter", "Mijn Baas Verhoeven").
_POSSESSIVES = _word_set(
    """my our your his her their this that the a an
    mein meine meinem meinen meiner unser unsere der die den dem
    mon ma notre le la mi nuestro nuestra el mijn onze de het
    mój moja mojego mojej nasz nasza il mio mia nostro nostra o meu minha nosso nossa"""
)
# Verbs that, right after a capitalised word at a sentence start, make it a subject:
# "Grace said ..." is a person, "Grace under pressure" is not.
_REPORTING_VERBS = _word_set(
    """said says told tells asked asks shouted shouts yelled yells screamed swore emailed
    texted messaged rang phoned insisted threatened refused ignored laughed complained
    replied admitted keeps kept wants wanted thinks thought made makes blamed accused
    criticised criticized undermined excluded humiliated grabbed touched"""
)
_STATE_VERBS = _word_set("was has had")
_CUE_WORDS = (
    _TITLES
    | _NAMING_VERBS
    | frozenset(word for phrase in _NAMING_PHRASES for word in phrase)
    | _ROLE_NOUNS
    | _POSSESSIVES
    | _REPORTING_VERBS
    | _STATE_VERBS
)
_ABBREVIATIONS = _TITLES | _word_set("e.g i.e vs approx")

# Word classes for a single directory name part.
_DISTINCT, _ORDINARY, _ALWAYS_CAPITAL, _NEVER = range(4)
_POSSESSIVE_SUFFIXES = ("'s", "’s")


@dataclass(frozen=True)
class _FullName:
    rest: tuple[str, ...]
    needs_capital: bool


@dataclass(slots=True)
class _Word:
    start: int
    end: int  # end of the name itself, before any possessive 's
    text: str
    low: str
    title: bool  # Capitalised (first letter upper, not ALL CAPS)
    upper: bool  # ALL CAPS, two letters or more
    possessive: bool
    sentence_start: bool = False


class Scrubber:
    """Precompiled scrubber for one staff directory; ``scrub`` is safe to call from threads."""

    def __init__(
        self,
        staff_names: Iterable[str] = (),
        staff_id_patterns: Sequence[str] = DEFAULT_STAFF_ID_PATTERNS,
        common_words: Iterable[str] = (),
    ) -> None:
        self._ordinary_words = NAME_WORDS | frozenset(w.lower() for w in common_words)
        self._staff_id_re = _compile_staff_id_patterns(staff_id_patterns)
        self._parts: dict[str, int] = {}
        self._full_names: dict[str, list[_FullName]] = {}
        for name in staff_names:
            self._add_name(name)
        for candidates in self._full_names.values():
            candidates.sort(key=lambda full: len(full.rest), reverse=True)
        # Word lists load once per process (about a second): here, not in a reporter's request.
        lexicon.warm()

    # --- construction -----------------------------------------------------------------

    def _word_class(self, low: str) -> int:
        if low in NEVER_NAMES:
            return _NEVER
        if low in CAPITALISED_WORDS:
            return _ALWAYS_CAPITAL
        if low in self._ordinary_words:
            return _ORDINARY
        return _DISTINCT

    def _add_name(self, name: str) -> None:
        words = [w.lower() for w in _WORD_RE.findall(name)]
        if not words:
            return
        for word in words:
            self._parts[word] = self._word_class(word)
            # "Smith-Jones" also answers to "Smith" and "Jones" on their own.
            for piece in re.split(r"[-’']", word) if "-" in word else ():
                if len(piece) > 1:
                    self._parts.setdefault(piece, self._word_class(piece))
        if len(words) < 2:
            return
        needs_capital = all(self._word_class(w) != _DISTINCT for w in words)
        sequences = {tuple(words), (words[0], words[-1])}
        for sequence in sequences:
            self._full_names.setdefault(sequence[0], []).append(
                _FullName(sequence[1:], needs_capital)
            )

    # --- scrubbing --------------------------------------------------------------------

    def scrub(self, text: str, language: str = "en") -> ScrubResult:
        """Replace personal data in ``text`` (written in ``language``, one of
        ``lexicon.LANGUAGES``) with markers; see the module docstring."""
        if language not in lexicon.LANGUAGES:
            language = "en"
        result, glued = self._scrub_once(text, language)
        # A marker glued to other text changes what its neighbours look like
        # ("EMP-12345Priya": no ID until the name becomes "[name]"), so such text gets
        # another pass until it is stable; that keeps scrub() idempotent. Ordinary text,
        # with markers between spaces and punctuation, takes one pass.
        for _ in range(_MAX_EXTRA_PASSES):
            if not glued:
                break
            again, glued = self._scrub_once(result.text, language)
            if again.text == result.text:
                break
            result = again
        return result

    def _scrub_once(self, text: str, language: str) -> tuple[ScrubResult, bool]:
        protected = [(m.start(), m.end()) for m in _MARKER_RE.finditer(text)]
        found = self._pattern_spans(text, protected)
        # Names are looked for in a copy with markers and the finds above blanked out, so a
        # word glued to an email or ID ("Priya'EMP-1234") reads the same as next to its marker.
        blocked = protected + [(start, end) for start, end, _ in found]
        found += self._name_spans(_blank_out(text, blocked), language)
        spans = _merge(found)
        return _render(text, spans), any(_is_glued(text, start, end) for start, end, _ in spans)

    def _pattern_spans(
        self, text: str, protected: list[tuple[int, int]]
    ) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        spans.extend(_email_spans(text))
        spans.extend(_url_spans(text))
        # Markers blanked out, so "[staff id] 2024" does not read as an ID cue and a number.
        spans.extend(identifier_spans(_blank_out(text, protected)))
        for match in self._staff_id_re.finditer(text):
            if match.end() > match.start():
                spans.append((match.start(), match.end(), KIND_STAFF_ID))
        if _DIGIT_RE.search(text):
            masked = _DATE_TIME_RE.sub(lambda m: "#" * len(m.group()), text)
            spans.extend(_phone_spans(masked))
        return [span for span in spans if not _overlaps_any(span[0], span[1], protected)]

    def _name_spans(self, text: str, language: str) -> list[tuple[int, int, str]]:
        words = _words(text)
        if not words:
            return []
        redact = [False] * len(words)
        self._mark_full_names(text, words, redact)
        self._mark_directory_words(text, words, redact)
        self._mark_cued_words(text, words, redact, language)
        self._mark_unlisted_names(text, words, redact, language)
        self._mark_neighbours(text, words, redact)
        self._mark_particle_surnames(text, words, redact)
        return _name_runs(text, words, redact)

    def _mark_full_names(self, text: str, words: list[_Word], redact: list[bool]) -> None:
        i = 0
        while i < len(words):
            matched = 0
            for full in self._full_names.get(words[i].low, ()):
                n = len(full.rest)
                if i + n >= len(words) or (full.needs_capital and not words[i].title):
                    continue
                if all(
                    words[i + k + 1].low == full.rest[k]
                    and not words[i + k].possessive
                    and _spaces_only(text, words[i + k].end, words[i + k + 1].start)
                    for k in range(n)
                ):
                    matched = n + 1
                    break
            for k in range(matched):
                redact[i + k] = True
            i += max(matched, 1)

    def _mark_directory_words(self, text: str, words: list[_Word], redact: list[bool]) -> None:
        for i, word in enumerate(words):
            word_class = self._parts.get(word.low)
            if word_class is None or redact[i]:
                continue
            if word_class == _DISTINCT:
                redact[i] = True
            elif word_class == _ORDINARY:
                redact[i] = word.title and (
                    not word.sentence_start
                    or word.possessive
                    or _followed_by(text, words, i, _REPORTING_VERBS | _STATE_VERBS)
                )
            elif word_class == _ALWAYS_CAPITAL:
                redact[i] = word.title and _followed_by(text, words, i, _REPORTING_VERBS)

    def _mark_cued_words(
        self, text: str, words: list[_Word], redact: list[bool], language: str
    ) -> None:
        for i in range(1, len(words)):
            word, cue = words[i], words[i - 1]
            if redact[i] or cue.possessive or not _cue_gap(text, cue.end, word.start):
                continue
            if word.low in NEVER_NAMES:
                continue
            known = word.low in self._parts
            capitalised = word.title or (word.upper and known)
            if _is_title_cue(cue) or _title_reaches(words, i - 1):
                # "mrs patel": after a title even a lower-case word is a name, unless it is
                # an ordinary word ("Dr. will see you").
                redact[i] = capitalised or (
                    self._word_class(word.low) == _DISTINCT
                    and lexicon.zipf(word.low, language) < _COMMON_ZIPF
                )
            elif not capitalised:
                continue
            elif cue.low in _NAMING_VERBS or (
                i >= 2 and (words[i - 2].low, cue.low) in _NAMING_PHRASES
            ):
                redact[i] = True
            elif (
                cue.low in _ROLE_NOUNS
                # A full stop after a role noun ends its sentence: "sagt die Teamleiterin. Das".
                and "." not in text[cue.end : word.start]
                and (not cue.title or (i >= 2 and words[i - 2].low in _POSSESSIVES))
            ):
                redact[i] = word.low not in CAPITALISED_WORDS or known

    def _mark_unlisted_names(
        self, text: str, words: list[_Word], redact: list[bool], language: str
    ) -> None:
        """Names in no directory and without a cue word, told by the lexicon (see its module).

        * a capitalised word that is rare as an ordinary word ("Okafor"), unless it is a
          compound of ordinary words ("Dienstplanänderung");
        * a capitalised common given name ("John", "Anna") not at a sentence start, or at
          one when a name or a verb follows, or when it stands alone: a signature on its
          own line ("Thanks,\nJohn") or an address ("John, please stop"); in German not
          right after an article ("der Ernst");
        * an initial and a capitalised word ("J. Kowalski", "M. Dupont");
        * a lower-case given name that is rare as a word ("priya"), or a common one after
          "and", "with", "told"... ("me and anna"), and a rare word right after it ("sharma").
        """
        articles = ARTICLES.get(language, frozenset())
        for i, word in enumerate(words):
            if redact[i] or word.upper or len(word.text) < 2 or _never_a_name(word.low):
                continue
            previous = (
                words[i - 1] if i > 0 and _cue_gap(text, words[i - 1].end, word.start) else None
            )
            if word.title:
                initial = previous is not None and _is_initial(text, previous)
                if initial or _is_rare_word(word.low, language):
                    redact[i] = True
                elif _given_name_frequency(word.low) and word.low not in CAPITALISED_WORDS:
                    if previous is not None and previous.low in articles:
                        continue
                    if word.sentence_start and word.low in self._ordinary_words:
                        continue  # "Young Smith said": the capital says nothing here
                    if lexicon.zipf(word.low, language) >= _FUNCTION_WORD_ZIPF:
                        continue
                    redact[i] = (
                        not word.sentence_start
                        or _followed_by_name_or_verb(text, words, i)
                        or _stands_alone(text, word)
                    )
            elif (
                previous is not None
                and previous.low in LOWER_CASE_NAME_CUES
                and len(word.low) > 2
                and lexicon.is_rare(word.low, language)
            ):
                redact[i] = True  # "z agnieszką": rare, after "and" or "with"
            elif _given_name_frequency(word.low):
                if lexicon.is_rare(word.low, language) or (
                    previous is not None
                    and previous.low in LOWER_CASE_NAME_CUES
                    and _given_name_frequency(word.low) >= _COMMON_NAME_FREQUENCY
                    and word.low not in NAME_WORDS
                    and lexicon.zipf(word.low, language) < _FUNCTION_WORD_ZIPF
                ):
                    redact[i] = True
            elif (
                previous is not None
                and redact[i - 1]
                and not previous.title
                and _is_rare_surname(word.low, language)
            ):
                redact[i] = True  # "priya sharma": a rare word after a lower-case name

    def _mark_particle_surnames(self, text: str, words: list[_Word], redact: list[bool]) -> None:
        """'Ana dos Santos', 'Pieter van der Berg': particles and the capitalised surname
        after a name."""
        for i in range(len(words) - 1):
            if not redact[i] or words[i].possessive:
                continue
            j = i + 1
            while (
                j < len(words)
                and words[j].low in NAME_PARTICLES
                and _spaces_only(text, words[j - 1].end, words[j].start)
            ):
                j += 1
            if (
                j > i + 1
                and j < len(words)
                and words[j].title
                and not _never_a_name(words[j].low)
                and _spaces_only(text, words[j - 1].end, words[j].start)
            ):
                for k in range(i + 1, j + 1):
                    redact[k] = True

    def _mark_neighbours(self, text: str, words: list[_Word], redact: list[bool]) -> None:
        """Spread from redacted words to capitalised neighbours that look like name parts.

        One sweep rightwards ("John Miller"), one leftwards ("Ngozi Adeyemi"), at most
        ``_MAX_NAME_SPREAD`` words from a word found by the other rules.
        """
        found = list(redact)
        for indices, step in ((range(1, len(words)), -1), (range(len(words) - 2, -1, -1), 1)):
            spread = [0] * len(words)
            for i in indices:
                word, neighbour = words[i], words[i + step]
                if redact[i] or not redact[i + step] or not word.title:
                    continue
                left, right = (neighbour, word) if step == -1 else (word, neighbour)
                distance = 0 if found[i + step] else spread[i + step]
                if (
                    distance < _MAX_NAME_SPREAD
                    and _name_gap(text, left, right)
                    and self._can_extend_to(word, after_name=step == -1)
                ):
                    redact[i] = True
                    spread[i] = distance + 1

    def _can_extend_to(self, word: _Word, after_name: bool) -> bool:
        if word.low in _TITLES or word.low in KEEP_WORDS:  # "Herr [name]", "Polish [name]"
            return False
        word_class = self._parts.get(word.low)
        if word_class is not None:  # a directory name part ("Will Jones")
            return word_class not in (_NEVER, _ALWAYS_CAPITAL)
        word_class = self._word_class(word.low)
        if word_class in (_NEVER, _ALWAYS_CAPITAL):
            return False
        if after_name:  # "my manager John Miller": a capital mid-sentence, so a surname
            return True
        # Before a name at a sentence start the capital says nothing: "Young Smith" stays,
        # "told Grace Smith" and "Emily Smith said" go (adverbs such as "Apparently" are in
        # NEVER_NAMES).
        return not word.sentence_start or word_class == _DISTINCT


# --- helpers --------------------------------------------------------------------------


_MAX_EXTRA_PASSES = 3
_COMMON_ZIPF = 4.0  # "Frau im Büro": after a title, a lower-case word this common is no name
_FUNCTION_WORD_ZIPF = 5.8  # "The", "So", "An" are given names somewhere too
_COMMON_NAME_FREQUENCY = 3  # in nam_dict's 1-13 scale
_SURNAME_ZIPF = 3.6


def _never_a_name(low: str) -> bool:
    return (
        low in NEVER_NAMES
        or low in KEEP_WORDS
        or low in _TITLES
        or low in _CUE_WORDS
        or low in NAME_PARTICLES
    )


@lru_cache(maxsize=65536)
def _given_name_frequency(low: str) -> int:
    """A hyphenated name ("Anna-Lena", "Mary-Kate") counts by its best-known part."""
    return max(lexicon.given_name_frequency(part) for part in low.split("-"))


def _is_initial(text: str, word: _Word) -> bool:
    """'J.' in 'J. Kowalski' (an upper-case letter with a full stop)."""
    return len(word.text) == 1 and word.text.isupper() and text[word.end : word.end + 1] == "."


# Endings that German, Dutch and Polish words take on an ordinary stem ("Schichtleiterin").
_INFLECTIONS = ("innen", "in", "en", "es", "e", "n", "s")
_MIN_COMPOUND_TAIL = 5


@lru_cache(maxsize=65536)  # pure, and the compound check is the scrubber's costliest step
def _is_rare_word(low: str, language: str) -> bool:
    """Rare as an ordinary word, and no compound or inflection of ordinary ones."""
    # "O'Donnell", "Okonkwo-Adeyemi"; "J'ai" has no part long enough to be a name.
    parts = [part for part in re.split(r"[-'’]", low) if len(part) > 2]
    if not parts or not all(lexicon.is_rare(part, language) for part in parts):
        return False
    for part in parts:
        stems = [part] + [part[: -len(end)] for end in _INFLECTIONS if part.endswith(end)]
        for stem in stems:
            if stem != part and not lexicon.is_rare(stem, language):
                return False
            for cut in range(3, len(stem) - _MIN_COMPOUND_TAIL + 1):
                if lexicon.zipf(stem[cut:], language) >= lexicon.RARE_ZIPF:
                    return False
    return True


def _is_rare_surname(low: str, language: str) -> bool:
    """After a lower-case name: uncommon ("sharma", zipf 3.5 in English), and no verb form
    ("priya complained")."""
    return (
        lexicon.zipf(low, language) < _SURNAME_ZIPF
        and lexicon.zipf(low, "en") < _SURNAME_ZIPF
        and not low.endswith(("ed", "ing", "ly"))
    )


def _followed_by_name_or_verb(text: str, words: list[_Word], i: int) -> bool:
    """At a sentence start, a given name is a person when a capitalised word ("Anna Nowak")
    or a reporting verb ("Anna said") follows."""
    if i + 1 >= len(words) or not _spaces_only(text, words[i].end, words[i + 1].start):
        return False
    following = words[i + 1]
    return (
        (following.title and not _never_a_name(following.low))
        or following.low in NAME_PARTICLES
        or following.low in (_REPORTING_VERBS | _STATE_VERBS)
    )


# After a sentence-start given name: nothing more on its line ("Thanks,\nJohn", a signature)
# or a comma (an address: "John, please stop").
_ALONE_AFTER = re.compile(r"[ \t]*(?:,|[.!]?[ \t]*(?:\r?\n|$))")


def _stands_alone(text: str, word: _Word) -> bool:
    """At a sentence start, a given name is a person when it signs the text off or is spoken
    to: the capital says nothing there, but no sentence starts with an ordinary word alone."""
    return _ALONE_AFTER.match(text, word.end) is not None


_MAX_NAME_SPREAD = 2  # "Dr Ngozi Ada Okafor": a name found, and up to two words around it
_SAFE_BEFORE = frozenset(" \t\r\n(\"'‘“")
_SAFE_AFTER = frozenset(" \t\r\n.,;:!?)\"'’”")


def _is_glued(text: str, start: int, end: int) -> bool:
    """Whether a replaced span touches something other than spaces and punctuation."""
    return (start > 0 and text[start - 1] not in _SAFE_BEFORE) or (
        end < len(text) and text[end] not in _SAFE_AFTER
    )


def _compile_staff_id_patterns(patterns: Sequence[str]) -> re.Pattern[str]:
    if isinstance(patterns, str):
        raise TypeError("staff_id_patterns must be a sequence of patterns, not one string")
    compiled: list[str] = []
    for index, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as error:
            message = f"staff ID pattern {index + 1} is not a valid regex: {error}"
            raise ValueError(message) from None
        compiled.append(f"(?:{pattern})")
    if not compiled:
        return re.compile(r"(?!)")  # matches nothing
    return re.compile("|".join(compiled), re.IGNORECASE)


def _email_spans(text: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and _is_email_local_char(text[start - 1]):
            start -= 1
        domain = _EMAIL_DOMAIN_RE.match(text, at + 1) if start < at else None
        if domain is not None:
            spans.append((start, domain.end(), KIND_EMAIL))
        at = text.find("@", at + 1)
    return spans


def _is_email_local_char(char: str) -> bool:
    return char.isalnum() or char in _EMAIL_LOCAL_PUNCTUATION


def _url_spans(text: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    covered = 0
    for hint in _URL_HINT_RE.finditer(text):
        if hint.start() < covered:
            continue
        start = hint.start()  # walk back to where the scheme or host name begins
        while start > covered and (text[start - 1].isalnum() or text[start - 1] in ".-"):
            start -= 1
        match = _URL_RE.match(text, start)
        if match is not None and match.end() > hint.start():
            end = _trim_url_end(text, start, match.end())
            spans.append((start, end, KIND_URL))
            covered = match.end()
    return spans


def _trim_url_end(text: str, start: int, end: int) -> int:
    """Leave sentence punctuation after a URL, and a ')' that closes an outer bracket."""
    while end > start and text[end - 1] in _URL_TRAILING:
        if text[end - 1] == ")" and text.count("(", start, end) >= text.count(")", start, end):
            break
        end -= 1
    return end


def _phone_spans(masked: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    match = _PHONE_RE.search(masked)
    while match is not None:
        if _is_phone_number(match.group()):
            spans.append((match.start(), match.end(), KIND_PHONE))
            match = _PHONE_RE.search(masked, match.end())
        else:
            # "1 555.123.4567": the short "1 555" is no number, but one may start inside it.
            match = _PHONE_RE.search(masked, match.start() + 1)
    return spans


def _is_phone_number(candidate: str) -> bool:
    digits = sum(char.isdigit() for char in candidate)
    if candidate.startswith(("+", "00", "(+")):
        return digits >= 8
    # No upper bound: two numbers typed back to back, or a card number, go too.
    return digits >= 9 or (digits == 7 and _US_LOCAL_RE.fullmatch(candidate) is not None)


def _overlaps_any(start: int, end: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start < r_end and r_start < end for r_start, r_end in ranges)


_BLANK = "\x00"  # neither a word character nor a space: breaks words and adjacency


def _blank_out(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    pieces: list[str] = []
    cursor = 0
    for start, end in sorted(spans):
        if start > cursor:
            pieces.append(text[cursor:start])
        if end > cursor:
            pieces.append(_BLANK * (end - max(start, cursor)))
            cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _words(text: str) -> list[_Word]:
    """Every word, with what the name rules need to know about it."""
    words: list[_Word] = []
    for match in _WORD_RE.finditer(text):
        token = match.group()
        low = token.lower()
        start, end = match.span()
        possessive = len(token) > 3 and low.endswith(_POSSESSIVE_SUFFIXES)
        if possessive:
            token, low, end = token[:-2], low[:-2], end - 2
        upper = len(token) > 1 and token.isupper()
        title = token[0].isupper() and not upper
        words.append(
            _Word(
                start=start,
                end=end,
                text=token,
                low=low,
                title=title,
                upper=upper,
                possessive=possessive,
                sentence_start=title and _starts_sentence(text, start),
            )
        )
    return words


_OPENERS = " \t\"'“‘([*-•"
_PREVIOUS_WORD_RE = re.compile(r"([A-Za-z.]+)\.$")


def _starts_sentence(text: str, start: int) -> bool:
    pos = start
    while pos > 0 and text[pos - 1] in _OPENERS:
        pos -= 1
    if pos == 0:
        return True
    char = text[pos - 1]
    if char in "\n\r!?:":
        return True
    if char != ".":
        return False
    previous = _PREVIOUS_WORD_RE.search(text, max(0, pos - 12), pos)
    if previous is None:
        return True
    word = previous.group(1).lower()
    return not (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()))


def _spaces_only(text: str, start: int, end: int) -> bool:
    return start < end and text[start:end].isspace() and "\n" not in text[start:end]


def _cue_gap(text: str, start: int, end: int) -> bool:
    """Between a cue and the name: spaces, optionally after '.' or ',' ("Dr. X", "boss, X")."""
    gap = text[start:end]
    return 0 < len(gap) <= 3 and gap.lstrip(".,").isspace() and "\n" not in gap


def _name_gap(text: str, left: _Word, right: _Word) -> bool:
    if left.possessive:
        return False
    return _spaces_only(text, left.end, right.start)


def _followed_by(text: str, words: list[_Word], i: int, followers: frozenset[str]) -> bool:
    return (
        i + 1 < len(words)
        and words[i + 1].low in followers
        and _spaces_only(text, words[i].end, words[i + 1].start)
    )


# Titles written with a dot inside ("Sig.ra", "Dott.ssa") read as two words: the second part.
_TITLE_ENDINGS = _word_set("ra ssa na")


def _title_reaches(words: list[_Word], cue_index: int) -> bool:
    """A cue that is not a title itself but continues one: the end of "Sig.ra", or a name
    particle after a title ("Mevr. de Vries", "Sr. de la Cruz")."""
    j = cue_index
    if words[j].low in _TITLE_ENDINGS and j >= 1 and words[j - 1].low in _TITLES:
        return True
    while j >= 1 and words[j].low in NAME_PARTICLES:
        j -= 1
    return j < cue_index and _is_title_cue(words[j])


def _is_title_cue(word: _Word) -> bool:
    if word.low not in _TITLES:
        return False
    return word.title or word.upper or word.low not in _TITLES_NEED_CAPITAL


def _name_runs(text: str, words: list[_Word], redact: list[bool]) -> list[tuple[int, int, str]]:
    """Join adjacent redacted words (and an initial before them) into [name] spans."""
    spans: list[tuple[int, int, str]] = []
    i = 0
    while i < len(words):
        if not redact[i]:
            i += 1
            continue
        start, end = words[i].start, words[i].end
        if i > 0 and not redact[i - 1]:
            start = _with_initial(text, words[i - 1], start)
        while i + 1 < len(words) and redact[i + 1] and _name_gap(text, words[i], words[i + 1]):
            i += 1
            end = words[i].end
        spans.append((start, end, KIND_NAME))
        i += 1
    return spans


def _with_initial(text: str, previous: _Word, start: int) -> int:
    """'J. Smith' -> include 'J.'; a lone 'A' or 'I' without a full stop is a word."""
    if len(previous.text) != 1 or not previous.title and not previous.text.isupper():
        return start
    gap = text[previous.end : start]
    if gap.startswith(".") and gap[1:].isspace() and len(gap) <= 3:
        return previous.start
    return start


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Union overlapping spans; the merged span takes the kind of its longest member."""
    merged: list[tuple[int, int, str]] = []
    longest: list[int] = []
    for start, end, kind in sorted(spans):
        if merged and start < merged[-1][1]:
            m_start, m_end, m_kind = merged[-1]
            # On a tie the organisation's own staff ID pattern names it.
            if end - start > longest[-1] or (end - start == longest[-1] and kind == KIND_STAFF_ID):
                m_kind, longest[-1] = kind, end - start
            merged[-1] = (m_start, max(m_end, end), m_kind)
        else:
            merged.append((start, end, kind))
            longest.append(end - start)
    return merged


def _render(text: str, spans: list[tuple[int, int, str]]) -> ScrubResult:
    pieces: list[str] = []
    cursor = 0
    for start, end, kind in spans:
        pieces.append(text[cursor:start])
        pieces.append(marker(kind))
        cursor = end
    pieces.append(text[cursor:])
    scrubbed = "".join(pieces)
    found = [(m.start(), m.end(), m.group(1)) for m in _MARKER_RE.finditer(scrubbed)]
    counts: dict[str, int] = {}
    for _, _, kind in found:
        counts[kind] = counts.get(kind, 0) + 1
    return ScrubResult(text=scrubbed, counts=counts, spans=found)
