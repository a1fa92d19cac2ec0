"""Patterns for personal identifiers other than names, emails, phones and URLs.

Each is a regex in the formats people type in the languages the form offers (en, de, fr, es,
nl, pl, it, pt). Presidio's pattern recognisers cover a few of these, but only behind its
analyzer, which loads a spaCy model, and mostly in US formats; these are plain regexes.
Checksums (python-stdnum) are deliberately not checked: a mistyped number is still personal.

==============  ================  =========================================================
kind            marker            found by
==============  ================  =========================================================
``address``     ``[address]``     house number + street word ("12 Elm Road", "Hauptstr. 5",
                                  "15 rue de la Paix", "ul. Kwiatowa 5"); postcodes (UK, NL,
                                  PL, PT as they stand; five digits only before a town name)
``handle``      ``[handle]``      ``@name`` not part of an email
``id number``   ``[id number]``   a badge, staff, insurance or ID cue word and the number
                                  after it; UK NI, US SSN, Spanish DNI/NIE, Italian codice
                                  fiscale, German social insurance numbers as they stand;
                                  letter-prefixed codes such as ``B-44821``
``birth date``  ``[birth date]``  a date after a birth cue ("born", "geboren", "né le"...),
                                  and any full date in a year 1930-2009
``plate``       ``[plate]``       a plate cue ("reg", "Kennzeichen", "matrícula"...) and the
                                  plate; UK, FR/IT, ES, DE, NL and PT formats as they stand
==============  ================  =========================================================
"""

from __future__ import annotations

import re

KIND_ADDRESS = "address"
KIND_HANDLE = "handle"
KIND_ID_NUMBER = "id number"
KIND_BIRTH_DATE = "birth date"
KIND_PLATE = "plate"
KINDS: tuple[str, ...] = (KIND_ADDRESS, KIND_HANDLE, KIND_ID_NUMBER, KIND_BIRTH_DATE, KIND_PLATE)

_CAP = r"[A-ZÀ-ÖØ-ÞĄĆĘŁŃŚŹŻ]"
_WORD = r"[^\W\d_][\w'’-]*"

# --- addresses ---------------------------------------------------------------------------

_EN_STREETS = (
    r"street|st|road|rd|avenue|ave|lane|ln|drive|close|way|crescent|place|court|terrace|"
    r"square|gardens|grove|boulevard|blvd|row|mews|walk|hill|park"
)
# Languages that write the street word first ("rue de la Paix"), with their linking words.
_PREFIX_STREETS = (
    r"rue|avenue|av\.|bd|boulevard|allée|impasse|chemin|quai|calle|c/|avenida|avda\.?|plaza|"
    r"paseo|camino|carrer|ulica|ul\.|aleja|al\.|plac|os\.|osiedle|via|viale|piazza|corso|"
    r"vicolo|rua|travessa|praça|praca|estrada|alameda|largo"
)
_LINKS = r"(?:(?:de|del|de\ la|des|du|da|do|dos|das|della|delle|dei|di|la|le|les|d['’])\s*)"
# Languages that glue it on ("Hauptstraße", "Kerkstraat").
_SUFFIX_STREETS = (
    r"straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer|"
    r"straat|laan|plein|gracht|kade|singel|dijk|steeg"
)
_HOUSE_NUMBER = r"\d{1,4}(?:\s?[a-zA-Z])?\b"

_ADDRESS_RES = (
    re.compile(
        rf"\b{_HOUSE_NUMBER},?\s+(?:{_CAP}{_WORD}\s+){{1,3}}(?i:{_EN_STREETS})\b\.?"
        rf"|\b(?:{_CAP}{_WORD}\s+){{1,3}}(?i:street|road|avenue|lane|drive|crescent|terrace)\b"
    ),
    re.compile(
        rf"(?:\b{_HOUSE_NUMBER},?\s+)?(?<![\w])(?i:{_PREFIX_STREETS})\s+{_LINKS}*"
        rf"{_CAP}{_WORD}(?:\s+{_LINKS}*{_CAP}{_WORD}){{0,3}},?\s+(?i:n[º°o]\.?\s*)?{_HOUSE_NUMBER}"
        rf"|\b{_HOUSE_NUMBER},?\s+(?i:{_PREFIX_STREETS})\s+{_LINKS}*{_CAP}{_WORD}"
        rf"(?:\s+{_LINKS}*{_CAP}{_WORD}){{0,3}}"
    ),
    re.compile(rf"\b{_CAP}[\w-]*(?i:{_SUFFIX_STREETS})\s+{_HOUSE_NUMBER}"),
    # Postcodes: UK, NL, PT, US ZIP+4 as they stand
    re.compile(
        r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b"
        r"|\b\d{4}\s?(?!HR|IT|AM|PM|AD|BC|UK|US|EU|OK|TV)[A-Z]{2}\b(?!-)"
        r"|\b\d{4}-\d{3}\b"
        r"|\b\d{5}-\d{4}\b"
    ),
    # PL and five-digit codes only after a comma or colon (an address) or a postcode cue
    re.compile(
        r"(?:[,:]\ ?|(?i:\b(?:plz|cp|c\.p\.|cap|code\ postal|kod\ pocztowy|código\ postal|"
        r"postcode|postal\ code|zip(?:\ code)?)\b)\W{0,3})"
        rf"((?:\d{{2}}-\d{{3}}|\d{{5}})\b(?:\s+{_CAP}[^\W\d_]+)?)"
    ),
)

# --- handles -------------------------------------------------------------------------------

_HANDLE_RE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?")

# --- identity numbers ------------------------------------------------------------------------

_ID_CUES = (
    r"badge|lanyard|id\ card|staff\ (?:no|number|id)|employee\ (?:no|number|id)|"
    r"payroll\ (?:no|number)|works\ number|ni\ number|national\ insurance(?:\ number)?|"
    r"social\ security(?:\ number)?|ssn|passport|"
    r"ausweis\w*|dienstausweis|personalnummer|personal-nr\.?|mitarbeiternummer|"
    r"sozialversicherungsnummer|sv-nummer|steuer-id|"
    r"matricule|numéro\ d['’]employé|carte|sécurité\ sociale|nir|"
    r"n[º°o]\.?\ de\ empleado|número\ de\ empleado|tarjeta|acreditación|seguridad\ social|"
    r"dni|nif|nuss|"
    r"personeelsnummer|pasnummer|badgenummer|bsn|burgerservicenummer|"
    r"identyfikator\w*|legitymacj\w*|numer\ pracownika|pesel|"
    r"matricola|tesserino|codice\ fiscale|"
    r"crachá|número\ de\ funcionário|niss"
)
_ID_NUMBER = r"[A-Z]{0,4}[-/]?\d[\d -]{1,14}\d[A-Z]?\b|[A-Z]{1,4}[-/]?\d{3,10}\b"
_ID_RES = (
    re.compile(rf"(?i:\b(?:{_ID_CUES})\b)[^\d\n]{{0,18}}?\b({_ID_NUMBER})"),
    re.compile(
        # UK NI number, US SSN, Spanish DNI and NIE, Italian codice fiscale, German SV number
        r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b"
        r"|\b\d{3}-\d{2}-\d{4}\b"
        r"|\b\d{8}-?[A-Z]\b|\b[XYZ]-?\d{7}-?[A-Z]\b"
        r"|\b[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]\b"
        r"|\b\d{2}\s?[0-3]\d[01]\d\d{2}\s?[A-Z]\s?\d{3}\b"
        # letter-prefixed codes: "B-44821", "ST4471" (but not a year: "FY2024")
        r"|\b[A-Z]{1,4}[-/]?(?!(?:19|20)\d\d\b)\d{4,10}\b"
    ),
)

# --- birth dates ---------------------------------------------------------------------------

_MONTHS = (
    r"jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|jul\w*|aug\w*|sep\w*|oct\w*|nov\w*|dec\w*|"
    r"januar|februar|märz|mai|juni|juli|august|oktober|dezember|"
    r"janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre|"
    r"enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|"
    r"diciembre|januari|februari|maart|mei|augustus|"
    r"stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|października|"
    r"listopada|grudnia|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|"
    r"dicembre|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro|dezembro"
)
_DATE = (
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?(?i:{_MONTHS})\.?\s+(?:de\s+)?\d{{4}}"
    rf"|(?i:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
)
_OLD_YEAR = r"(?:19[3-9]\d|200\d)"
_BIRTH_CUES = (
    r"born|birth|birthday|dob|d\.o\.b\.?|geboren|geb\.|geburtsdatum|geburtstag|"
    r"née?|naissance|nacid[oa]|nacimiento|cumpleaños|geboortedatum|"
    r"urodzon\w*|urodzenia|urodziny|nat[oa]|nascita|nascid[oa]|nascimento|aniversário"
)
_BIRTH_RES = (
    re.compile(rf"(?i:\b(?:{_BIRTH_CUES}))[^\d\n]{{0,20}}?\b({_DATE})"),
    re.compile(
        rf"\b\d{{1,2}}[./-]\d{{1,2}}[./-]{_OLD_YEAR}\b|\b{_OLD_YEAR}-\d{{2}}-\d{{2}}\b"
        rf"|\b\d{{1,2}}\.?\s+(?:de\s+)?(?i:{_MONTHS})\.?\s+(?:de\s+)?{_OLD_YEAR}\b"
        rf"|\b(?i:{_MONTHS})\.?\s+\d{{1,2}},?\s+{_OLD_YEAR}\b"
    ),
)

# --- vehicle plates -------------------------------------------------------------------------

_PLATE_CUES = (
    r"plate|number\ plate|reg|registration|licen[cs]e|"
    r"kennzeichen|nummernschild|plaque|immatriculation|immatriculée|matrícula|matricula|"
    r"kenteken|nummerbord|rejestracj\w*|rejestracyjn\w*|tablic\w*|targa|targata"
)
# Written in capitals, with at least one letter and one digit ("AB12 CDE", "1234 BCD").
_PLATE = r"(?=[A-Z0-9 -]*\d)(?=[A-Z0-9 -]*[A-Z])[A-Z0-9]{1,4}(?:[ -][A-Z0-9]{1,4}){0,3}\b"
_PLATE_RES = (
    re.compile(
        rf"(?i:\b(?:{_PLATE_CUES})\b)[^\w\n]{{0,3}}(?i:(?:no|nr|number|n[º°o])\.?\s)?"
        rf"[^\w\n]{{0,3}}({_PLATE})"
    ),
    re.compile(
        r"\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b"  # UK
        r"|\b[A-Z]{2}[- ]\d{3}[- ][A-Z]{2}\b"  # FR, IT
        r"|\b\d{4}[- ]?(?!GBP|CHF|PLN|DKK|SEK|NOK|CZK)[BCDFGHJKLMNPRSTVWXYZ]{3}\b"  # ES
        r"|\b[A-ZÄÖÜ]{1,3}-[A-Z]{1,2}\s?\d{1,4}[EH]?\b"  # DE
        # NL and PT side codes: three groups of letters or digits, mixed
        r"|\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]{1,3}-[A-Z0-9]{2,3}-[A-Z0-9]{1,2}\b"
    ),
)

_ALL: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = (
    (KIND_ADDRESS, _ADDRESS_RES),
    (KIND_ID_NUMBER, _ID_RES),
    (KIND_BIRTH_DATE, _BIRTH_RES),
    (KIND_PLATE, _PLATE_RES),
)


def identifier_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every identifier above; overlaps are merged by the caller."""
    spans = [(m.start(), m.end(), KIND_HANDLE) for m in _HANDLE_RE.finditer(text)]
    if not any(char.isdigit() for char in text):
        return spans
    for kind, patterns in _ALL:
        for pattern in patterns:
            for match in pattern.finditer(text):
                group = 1 if pattern.groups else 0
                start, end = match.span(group)
                if end > start:
                    spans.append((start, end, kind))
    return spans
