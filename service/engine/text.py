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
"""

from __future__ import annotations

import re

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


def normalise(text: str) -> str:
    """Casefold and unify apostrophes, so "Don’t" and "don't" give the same token."""
    folded = text.casefold()
    # str.replace is several times faster than str.translate on long texts.
    for apostrophe in _APOSTROPHES:
        folded = folded.replace(apostrophe, "'")
    return folded


def tokenize(text: str) -> list[str]:
    """Tokens of already normalised text (see module docstring)."""
    return _WORD_OR_MARK.findall(text)


def is_negation_cue(token: str) -> bool:
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


def is_negated(tokens: list[str], index: int, window: int = NEGATION_WINDOW) -> bool:
    """True when the match starting at tokens[index] is in the scope of a negation cue."""
    words_between = 0
    for position in range(index - 1, max(-1, index - 1 - MAX_SCOPE_TOKENS), -1):
        token = tokens[position]
        if is_negation_cue(token):
            follower = tokens[position + 1] if position + 1 < index else None
            return follower not in PSEUDO_NEGATION_FOLLOWERS and follower != ","
        if _suggestion_ends_at(tokens, position):
            return True
        if not _is_word(token):
            if token in SOFT_MARKS:
                continue
            return False
        if token in SCOPE_TERMINATORS:
            return False
        if token not in FUNCTION_WORDS:
            words_between += 1
            if words_between > window:
                return False
    return False
