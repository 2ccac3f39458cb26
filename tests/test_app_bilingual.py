"""The dashboard shows bilingual category labels in the user's language, and region names
from the boundary set's own translations (AppTest, the real app on a small file)."""

from __future__ import annotations

import pytest

from crisismap import bilingual, choices, i18n, pipeline
from crisismap.boundaries import load_boundaries

pytestmark = pytest.mark.slow

CSV = (
    "date,latitude,longitude,category\n"
    "2024-03-01,50.45,30.52,Pillage | Looting\n"
    "2024-03-02,49.84,24.03,Meurtre | Killing\n"
    "2024-03-03,46.48,30.73,Enlèvement | Abduction\n"
)


@pytest.fixture(scope="module")
def analysis():
    return pipeline.analyse(CSV.encode(), load_boundaries("world:UKR"))


def test_category_menu_and_chart_show_the_users_side(analysis):
    options = choices.categories_of(analysis)
    assert "Pillage | Looting" in options  # the data keeps the whole labels
    with i18n.using("fr"):
        token = bilingual.set_display(bilingual.AUTO)
        try:
            shown_fr = [choices.category_shown(options)(o) for o in options]
        finally:
            bilingual._display.reset(token)
    with i18n.using("en"):
        token = bilingual.set_display(bilingual.AUTO)
        try:
            shown_en = [choices.category_shown(options)(o) for o in options]
        finally:
            bilingual._display.reset(token)
    assert sorted(shown_fr) == ["Enlèvement", "Meurtre", "Pillage"]
    assert sorted(shown_en) == ["Abduction", "Killing", "Looting"]


def test_region_menu_names_follow_the_language(analysis):
    with i18n.using("uk"):
        names = [label for _, label in choices.region_choices(analysis, 1)]
    with i18n.using("en"):
        english = [label for _, label in choices.region_choices(analysis, 1)]
    assert any("Львівська" in n for n in names), names
    assert not any("Львівська" in n for n in english), english
