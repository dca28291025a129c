"""Words that must not leave the system: one check for everything a family or a
calendar service reads (group titles, feeds, reminders, the opt-out page).

Rule 8 of the work (seed README): nothing that leaves the system may reveal the
track, the plan or notes. A group called "Lastensuojelun vanhempainryhmä" or
"Sijoitettujen lasten vanhempien ryhmä" says the first, in every calendar
server and phone that holds the event.

Finnish inflects and compounds, so its words are stems found anywhere in a
word ("Lastensuojelun", "perhesijoitus", "sijaisperhe", "huostaanotto");
English words are matched from the start of a word, so that "plan" finds
"planning" but not "explanation". Text is compared normalised (NFKC: NFC's
composed letters, and compatibility forms such as full-width letters folded)
and case-folded, with invisible format characters (a soft hyphen, a zero-width
space) removed and every run of other separators read as one space, so that
neither a decomposed "ä" nor "child_protection" nor "lasten\u00adsuojelu"
gets past.
"""

import re
import unicodedata

# Stems found anywhere in a word: Finnish words and their compounds.
STEMS = (
    "lastensuojel",                 # lastensuojelu, lastensuojelun, -perhetyö
    "sijoitet", "sijoitus", "sijoituk", "sijoittam",  # sijoitettujen, perhesijoitus
    "sijais",                       # sijaisperhe, sijaishuolto, sijaisvanhemmat
    "huostaan", "huostassa", "huostasta",  # huostaanotto, huostassa olevat
    "ennaltaehkäis",                # the track's name
    "sosiaalityö",                  # who referred the family
    "suunnitelm",                   # the plan
    "muistiinpan",                  # notes
    "palvelupolk",                  # the track, in other words
)
# Words matched from the start of a word: English, where a stem inside a word
# would find innocent words.
WORD_STARTS = (
    "child protection", "foster", "taken into care", "custody", "preventive",
    "social work", "plan", "notes", "track",
)

_SEPARATORS = re.compile(r"[\W_]+")
_STEMS = re.compile("|".join(re.escape(stem) for stem in STEMS))
_PATTERN = re.compile(
    "|".join([*(re.escape(stem) for stem in STEMS),
              *(r"(?<!\w)" + re.escape(word) for word in WORD_STARTS)]))


def normalised(text: str) -> str:
    """The text as the check reads it: NFKC, case-folded, no format characters,
    separators as single spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return _SEPARATORS.sub(" ", text.casefold()).strip()


def forbidden_words(text: str) -> tuple[str, ...]:
    """The words of ``text`` that must not leave the system, as the text reads
    them after normalising (whole words: "lastensuojelun", not the stem), in order
    and without repeats; empty when the text may go out.

    The Finnish stems are also looked for across separators ("lasten suojelu",
    "sijais-perhe"), since a reader joins the parts again."""
    plain = normalised(text)
    spans = [match.span() for match in _PATTERN.finditer(plain)]
    letters = [index for index, char in enumerate(plain) if char != " "]
    compact = "".join(plain[index] for index in letters)
    spans += [(letters[match.start()], letters[match.end() - 1] + 1)
              for match in _STEMS.finditer(compact)]
    found = []
    for start, end in sorted(spans):
        start = plain.rfind(" ", 0, start) + 1
        end = plain.find(" ", end)
        word = plain[start:] if end < 0 else plain[start:end]
        if word not in found and not any(word in other for other in found):
            found.append(word)
    return tuple(found)


def may_leave(text: str) -> bool:
    """Whether a text holds none of the words that must not leave the system."""
    return not forbidden_words(text)
