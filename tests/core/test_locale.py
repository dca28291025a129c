"""Finnish by default, English on request; one vocabulary with both labels."""

import pytest
from flask_babel import force_locale

from app import create_app
from config import Config, TestConfig, settings
from core.vocabulary import SUPPORT_AREAS

# The seed's Finnish names of the support areas, word for word.
FINNISH_SUPPORT_AREAS = {
    "parent_child_relationship": "lapsen ja vanhemman suhteen tukeminen",
    "positive_upbringing": "positiivisten kasvatuskeinojen löytäminen",
    "family_resources": "perheen omien voimavarojen löytäminen ja lisääminen",
    "everyday_problems": "opastaminen arjen ongelmien hallinnassa",
    "time_together": "kannustaminen perheen yhteiseen ajankäyttöön",
    "doing_together": "yhdessä tekeminen",
    "service_mapping": "palvelujen kartoittaminen",
    "age_appropriate_development": "ikätason mukaisen kehityksen tukeminen",
    "parenthood": "vanhemmuuden tukeminen",
    "care_and_upbringing": "lasten hoidon ja kasvatuksen ohjaaminen",
    "everyday_routines": "kodin arjen ja arkirutiinien hallinta",
    "family_functioning": "perheen toimintakyvyn vahvistaminen",
    "interaction_and_networks": "vuorovaikutustaitojen tukeminen ja sosiaalisten "
                                "verkostojen laajentaminen",
    "preventing_exclusion": "syrjäytymisen ehkäisy",
}


@pytest.fixture
def finnish_default_app(database_url):
    """An app with the shipped default language (the suite reads English)."""
    return create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI=database_url,
                               BABEL_DEFAULT_LOCALE=Config.BABEL_DEFAULT_LOCALE))


def test_the_interface_is_finnish_by_default(app, finnish_default_app):
    page = finnish_default_app.test_client().get("/login").get_data(as_text=True)
    assert '<html lang="fi">' in page
    assert "Kirjaudu sisään" in page


def test_support_areas_carry_the_seeds_finnish_labels(app):
    with force_locale("fi"):
        labels = {code: str(label).lower() for code, label in SUPPORT_AREAS.items()}
    assert labels == FINNISH_SUPPORT_AREAS


def test_support_areas_have_english_labels(app):
    with force_locale("en"):
        assert str(SUPPORT_AREAS["parenthood"]) == "Supporting parenthood"
        assert str(SUPPORT_AREAS["preventing_exclusion"]) == "Preventing social exclusion"
