"""Turning report text into tokens once per report, and deciding whether a match is negated.

Tokens are casefolded words (letters, digits, inner apostrophes: "don't" is one token) and single
punctuation marks. Hyphens and whitespace separate words without being tokens, so "self-harm"
and "self harm" read the same. Punctuation tokens never equal a word form, so a phrase cannot
run across a comma or a full stop.

Negation is a small NegEx-style check: a match is negated when a negation cue ("not", "no",
"never", any "...n't") stands before it in the same clause, with at most NEGATION_WINDOW words
between them, not counting short function words ("a", "the", "to"...): "I have no intention of
going to a solicitor" is negated. A clause ends at a full stop, other strong punctuation or a word
such as "but" or "because"; commas and quotes do not end it ("I do not wish to pursue any claim,
grievance or complaint"). A cue directly followed by a "pseudo" word or a comma ("can't stop",
"not only", "no one", "didn't report", "No, ...") is not a negation: "he won't stop harassing
me" and "I didn't report the harassment" do not deny the harassment.

Someone else's suggestion counts as a negation too ("my sister said I could take it to a
tribunal", "a friend told me I should get a solicitor"): the reporter mentions the route without
taking it, which is what rule authors mean by a negated mention.

Other languages. `normalise(text, language)` also folds accents ("menacé" -> "menace", "não" ->
"nao", "łza" -> "lza"), and in German writes umlauts the way people type them without an umlaut
key ("kündigen" -> "kuendigen", "Straße" -> "strasse"), so text typed either way matches.
`tokenize(text, language)` splits French and Italian elisions ("j'ai" -> "j", "ai", "dell'ufficio"
-> "dell", "ufficio") so a term reads the same whether or not a word was elided. Each offered
language has its own negation cues and clause-ending words; the pseudo-negation and suggestion
frames are English only.
"""

from __future__ import annotations

import re
import unicodedata

_WORD_OR_MARK = re.compile(r"\w+(?:'\w+)*|[^\w\s-]")
_APOSTROPHES = ("\u2019", "\u2018", "\u02bc", "`")

# How many words may stand between a negation cue and a match, function words not counted.
NEGATION_WINDOW = 4

# A hard bound on how far back to look, whatever the text (e.g. a long run of function words).
MAX_SCOPE_TOKENS = 30

# Not counted in the window: they carry no meaning of their own between a cue and a match.
FUNCTION_WORDS: frozenset[str] = frozenset(
    {
        "a",
        "an",
        "the",
        "to",
        "of",
        "my",
        "his",
        "her",
        "their",
        "our",
        "your",
        "any",
        "be",
        "been",
        "being",
        "into",
        "for",
        "about",
        "with",
        "at",
        "in",
        "on",
        "it",
        "this",
        "that",
        "i",
        "i'm",
        "me",
    }
)

NEGATION_CUES: frozenset[str] = frozenset(
    {
        "not",
        "no",
        "never",
        "cannot",
        "without",
        "nor",
        "neither",
        "hardly",
        # Informal spellings without an apostrophe.
        "dont",
        "didnt",
        "doesnt",
        "cant",
        "wont",
        "isnt",
        "wasnt",
        "arent",
        "werent",
        "havent",
        "hasnt",
        "hadnt",
        "wouldnt",
        "couldnt",
        "shouldnt",
        "aint",
    }
)

# A cue directly followed by one of these does not deny what comes after it.
PSEUDO_NEGATION_FOLLOWERS: frozenset[str] = frozenset(
    {
        "only",
        "just",
        "sure",
        "one",
        "longer",
        "more",
        "matter",
        "doubt",
        "idea",
        "choice",
        "option",
        "fair",
        "okay",
        "ok",
        "right",
        "acceptable",
        "normal",
        "stop",
        "stops",
        "stopped",
        "stopping",
        "end",
        "ends",
        "take",
        "stand",
        "cope",
        "bear",
        "deal",
        "handle",
        "keep",
        "continue",
        "help",
        "believe",
        "sleep",
        "eat",
        "concentrate",
        "focus",
        "function",
        "breathe",
        "work",
        "face",
        "wait",
        "even",
        "do",
        "does",
        "did",
        "care",
        "know",
        "understand",
        "realise",
        "realize",
        "report",
        "reported",
        "tell",
        "told",
        "say",
        "said",
        "mention",
        "mentioned",
        "apologise",
        "apologised",
        "apologize",
        "apologized",
    }
)

# Advice from someone else, read like a negation cue: "my dad says I should get a solicitor".
# Matched as whole token sequences ending just before the scope being checked.
SUGGESTION_CUES: frozenset[tuple[str, ...]] = frozenset(
    {
        ("said", "i", "should"),
        ("says", "i", "should"),
        ("said", "i", "could"),
        ("says", "i", "could"),
        ("said", "we", "should"),
        ("says", "we", "should"),
        ("told", "me", "i", "should"),
        ("told", "me", "i", "could"),
        ("tells", "me", "i", "should"),
        ("thinks", "i", "should"),
        ("reckons", "i", "should"),
        ("suggested", "i"),
        ("suggested", "that", "i"),
        # Not plain "keeps saying": "he keeps saying he'll get me sacked" is the threat itself.
        ("keeps", "saying", "i", "should"),
        ("keep", "saying", "i", "should"),
        ("kept", "saying", "i", "should"),
    }
)
_SUGGESTION_ENDINGS = frozenset(cue[-1] for cue in SUGGESTION_CUES)

# Punctuation that does not end a clause: lists, quotations and scrubbed "[name]" placeholders.
SOFT_MARKS: frozenset[str] = frozenset({",", '"', "\u201c", "\u201d", "'", "(", ")", "[", "]"})

# Words that end the reach of a negation cue, as strong punctuation does.
SCOPE_TERMINATORS: frozenset[str] = frozenset(
    {
        "but",
        "however",
        "although",
        "though",
        "yet",
        "and",
        "so",
        "because",
        "since",
        "except",
        "unless",
        "instead",
        "still",
        "while",
        "whereas",
        "which",
        "who",
        "when",
        "until",
    }
)


# Negation cues and clause-ending words of the other offered languages. Written as normalised
# (accent-folded) tokens. Kept to words that negate what follows in the same clause.
NEGATION_CUES_BY_LANGUAGE: dict[str, frozenset[str]] = {
    "de": frozenset(
        {"nicht", "kein", "keine", "keinen", "keinem", "keiner", "nie", "niemals", "ohne"}
    ),
    "fr": frozenset({"pas", "jamais", "sans", "aucun", "aucune", "ni"}),
    "es": frozenset({"no", "nunca", "jamas", "sin", "ningun", "ninguna", "ni"}),
    "nl": frozenset({"niet", "geen", "nooit", "zonder"}),
    "pl": frozenset({"nie", "nigdy", "bez", "zaden", "zadna"}),
    "it": frozenset({"non", "mai", "senza", "nessun", "nessuna"}),
    "pt": frozenset({"nao", "nunca", "jamais", "sem", "nenhum", "nenhuma", "nem"}),
}
SCOPE_TERMINATORS_BY_LANGUAGE: dict[str, frozenset[str]] = {
    "de": frozenset({"aber", "und", "weil", "denn", "doch", "sondern", "obwohl", "seit", "als"}),
    "fr": frozenset({"mais", "et", "car", "parce", "depuis", "quand", "lorsque", "qui"}),
    "es": frozenset({"pero", "y", "porque", "aunque", "desde", "cuando", "sino"}),
    "nl": frozenset({"maar", "en", "omdat", "want", "sinds", "toen", "hoewel"}),
    "pl": frozenset({"ale", "i", "bo", "poniewaz", "choc", "odkad", "kiedy"}),
    "it": frozenset({"ma", "e", "perche", "poiche", "quando"}),
    "pt": frozenset({"mas", "e", "porque", "embora", "desde", "quando"}),
}

# German typed without an umlaut key writes ae, oe, ue; the casefold already made "ß" "ss".
_GERMAN_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
# Letters that Unicode does not decompose into a base letter plus an accent.
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i"})
# Languages whose elided articles and pronouns are split off: "j'ai" reads as "j ai".
_ELIDING_LANGUAGES = frozenset({"fr", "it"})
_ELISION = re.compile(r"\b([a-z]{1,6})'(?=\w)")


def fold_accents(text: str, language: str | None = None) -> str:
    """Accents off, so "menacé" and "menace" are one word; German umlauts as ae/oe/ue."""
    if language == "de":
        text = text.translate(_GERMAN_UMLAUTS)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def normalise(text: str, language: str | None = None) -> str:
    """Casefold, unify apostrophes and fold accents, so "Don’t" and "don't", "Kündigung" and
    "Kuendigung" give the same token."""
    folded = text.casefold()
    # str.replace is several times faster than str.translate on long texts.
    for apostrophe in _APOSTROPHES:
        folded = folded.replace(apostrophe, "'")
    return fold_accents(folded, language)


def tokenize(text: str, language: str | None = None) -> list[str]:
    """Tokens of already normalised text (see module docstring)."""
    if language in _ELIDING_LANGUAGES and "'" in text:
        text = _ELISION.sub(r"\1 ", text)
    return _WORD_OR_MARK.findall(text)


def is_negation_cue(token: str, language: str | None = None) -> bool:
    if language is not None and language != "en":
        return token in NEGATION_CUES_BY_LANGUAGE.get(language, ())
    return token in NEGATION_CUES or token.endswith("n't")


def _is_word(token: str) -> bool:
    return token[0].isalnum() or token[0] == "_"


def _suggestion_ends_at(tokens: list[str], position: int) -> bool:
    if tokens[position] not in _SUGGESTION_ENDINGS:
        return False
    return any(
        tuple(tokens[position - len(cue) + 1 : position + 1]) == cue
        for cue in SUGGESTION_CUES
        if position - len(cue) + 1 >= 0
    )


def is_negated(
    tokens: list[str], index: int, window: int = NEGATION_WINDOW, language: str | None = None
) -> bool:
    """True when the match starting at tokens[index] is in the scope of a negation cue."""
    english = language is None or language == "en"
    terminators = (
        SCOPE_TERMINATORS if english else SCOPE_TERMINATORS_BY_LANGUAGE.get(language, frozenset())
    )
    words_between = 0
    for position in range(index - 1, max(-1, index - 1 - MAX_SCOPE_TOKENS), -1):
        token = tokens[position]
        if is_negation_cue(token, language):
            if not english:
                return True
            follower = tokens[position + 1] if position + 1 < index else None
            return follower not in PSEUDO_NEGATION_FOLLOWERS and follower != ","
        if english and _suggestion_ends_at(tokens, position):
            return True
        if not _is_word(token):
            if token in SOFT_MARKS:
                continue
            return False
        if token in terminators:
            return False
        if token not in FUNCTION_WORDS:
            words_between += 1
            if words_between > window:
                return False
    return False
