"""core.wording: one check for the words that must not leave the system, over
Finnish inflections and compounds, case, Unicode normal forms and separators."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.wording import STEMS, WORD_STARTS, forbidden_words, may_leave

# Inflected and compounded forms of every Finnish stem, as titles would use them.
INFLECTED = (
    "lastensuojelu", "Lastensuojelun", "lastensuojelussa", "lastensuojelullinen",
    "LASTENSUOJELUPERHEET", "avohuollon lastensuojelu",
    "sijoitettujen", "Sijoitettujen lasten vanhempien ryhmä", "sijoitettu", "sijoitetut",
    "perhesijoitus", "sijoituksen", "sijoittamisen jälkeen",
    "sijaisperhe", "Sijaisvanhemmat", "sijaishuollon", "perhehoitaja ja sijaiset",
    "huostaanotto", "huostaanotettujen", "huostassa", "Huostassa olevat lapset",
    "huostasta palanneet",
    "ennaltaehkäisevä perhetyö", "sosiaalityöntekijän ryhmä", "suunnitelman mukaan",
    "muistiinpanot", "palvelupolku",
)
ENGLISH = ("Child protection parents", "child-protection", "child_protection",
           "Foster families", "Children taken into care", "custody group",
           "Preventive work", "social workers", "Planning meeting", "plan", "Notes",
           "Track")
# Words a group title may hold: none of them has a forbidden word in it.
ALLOWED = ("Vauvaperheiden ryhmä", "Taaperoryhmä", "Isien ilta", "Äitien kahvila",
           "Perheiden liikuntaryhmä", "Leikkiryhmä 3–5-vuotiaille", "Explanation",
           "Lasten kuvataide", "Sijainti: Mikkeli", "Kotikäynti", "Tapaaminen",
           "Ryhmätapaaminen", "Home visit", "group meeting", "Suojeltu luonto")


@pytest.mark.parametrize("text", INFLECTED + ENGLISH)
def test_every_inflected_or_english_form_is_caught(text):
    assert forbidden_words(text), text
    assert not may_leave(text)


@pytest.mark.parametrize("text", ALLOWED)
def test_ordinary_group_titles_pass(text):
    assert forbidden_words(text) == ()
    assert may_leave(text)


def test_the_whole_word_is_named_not_the_stem():
    assert forbidden_words("Lastensuojelun vanhempainryhmä") == ("lastensuojelun",)
    assert forbidden_words("Sijoitettujen lasten ryhmä") == ("sijoitettujen",)
    assert forbidden_words("Sijaisperhe ja huostaanotto") == ("sijaisperhe", "huostaanotto")


@pytest.mark.parametrize("text", (
    unicodedata.normalize("NFD", "Lastensuojelun ryhmä"),     # decomposed letters
    "Lasten\u00adsuojelun ryhmä",                               # soft hyphen
    "Lasten\u200bsuojelun ryhmä",                               # zero-width space
    "lasten suojelun ryhmä", "lasten-suojelu", "sijais-perhe", "huostaan otetut",
    "ＬＡＳＴＥＮＳＵＯＪＥＬＵ",                                   # full-width forms
))
def test_normal_forms_invisible_characters_and_separators_do_not_hide_a_word(text):
    assert forbidden_words(text)
    assert not may_leave(text)


ENDINGS = ("", "n", "a", "ä", "ssa", "sta", "lle", "lla", "t", "jen", "ineen", "nsa",
           "perhe", "ryhmä", "ohjelma")


@given(st.sampled_from(STEMS), st.sampled_from(ENDINGS),
       st.sampled_from(("", "Perhe", "avo", "Vanhempien ")),
       st.sampled_from((str.lower, str.upper, str.title, str.capitalize)),
       st.sampled_from(("NFC", "NFD")))
def test_any_stem_with_any_ending_prefix_case_and_normal_form_is_caught(
        stem, ending, prefix, case, form):
    text = unicodedata.normalize(form, case(prefix + stem + ending))
    assert forbidden_words(text)


@given(st.sampled_from(WORD_STARTS), st.sampled_from(("", "s", "ing", "ed")),
       st.sampled_from((str.lower, str.upper, str.title)))
def test_every_english_word_is_caught_at_the_start_of_a_word(word, ending, case):
    assert forbidden_words(case(f"Our {word}{ending} group"))


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_the_check_takes_any_text(text):
    found = forbidden_words(text)
    assert isinstance(found, tuple)
    assert may_leave(text) == (found == ())
