"""Normalization and sentence splitting in the page's language: French and German rules, and
what a language without rules of its own still gets (its numbers, in that language)."""

from __future__ import annotations

import pytest

from listen.normalize import language_for, normalize_for_speech, primary_language
from listen.script import split_sentences


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Le 1er mars 2024.", "Le premier mars deux mille vingt-quatre."),
        ("Elle a payé 1 250,50 €.", "Elle a payé mille deux cent cinquante euros cinquante."),
        ("Il reste 3,25 %.", "Il reste trois virgule vingt-cinq pour cent."),
        ("Soit 0,05 point.", "Soit zéro virgule zéro cinq point."),
        ("Un budget de 3 millions d'euros.", "Un budget de trois millions d'euros."),
        ("Un coût de 2,5 Md€.", "Un coût de deux virgule cinq milliards d'euros."),
        ("Il coûte 1 €.", "Il coûte un euro."),
        ("Au XXIe siècle, la 2e fois.", "Au vingt et unième siècle, la deuxième fois."),
        ("On part à 18 h 30 ou à 9h.", "On part à dix-huit heures trente ou à neuf heures."),
        ("Le 03/10/2024.", "Le trois octobre deux mille vingt-quatre."),
        ("M. Dupont et Mme Martin.", "Monsieur Dupont et Madame Martin."),
        ("Louis XIV et Jean-Paul II.", "Louis quatorze et Jean-Paul deux."),
        ("Il fait -5 °C à 3 km.", "Il fait moins cinq degrés à trois kilomètres."),
        ("Entre 2-3 fois, p. ex. le soir.", "Entre deux à trois fois, par exemple le soir."),
        ("Ce n'est pas Le X.", "Ce n'est pas Le X."),  # "Ce" and "Le" are no Roman numerals
    ],
)
def test_french(written: str, spoken: str) -> None:
    assert normalize_for_speech(written, "fr-FR") == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Am 3. Oktober 2024.", "Am dritten Oktober zweitausendvierundzwanzig."),
        ("Der 3. Oktober ist frei.", "Der dritte Oktober ist frei."),
        ("Er zahlte 1.250,50 €.", "Er zahlte eintausendzweihundertfünfzig Euro fünfzig."),
        ("Es kostet 1 €.", "Es kostet ein Euro."),
        ("Der Bund gibt 3,5 Mio. Euro.", "Der Bund gibt drei Komma fünf Millionen Euro."),
        ("Dazu 1 Mio. €.", "Dazu eine Million Euro."),
        ("Um 14:30 Uhr und um 9 Uhr.", "Um vierzehn Uhr dreißig und um neun Uhr."),
        ("Am 03.10.2024 um 8.15 Uhr.", "Am dritten Oktober zweitausendvierundzwanzig um acht "
         "Uhr fünfzehn."),
        ("Der Krieg endete 1945.", "Der Krieg endete neunzehnhundertfünfundvierzig."),
        ("Es kamen 1990 Menschen.", "Es kamen eintausendneunhundertneunzig Menschen."),
        ("In den 1990er Jahren.", "In den neunzehnhundertneunziger Jahren."),
        ("Im 19. Jahrhundert.", "Im neunzehnten Jahrhundert."),
        ("Ludwig XIV. war König.", "Ludwig der Vierzehnte war König."),
        ("Ein Plus von 2,5 %.", "Ein Plus von zwei Komma fünf Prozent."),
        ("Es gibt z. B. Äpfel, Birnen usw.", "Es gibt zum Beispiel Äpfel, Birnen und so weiter"),
        ("Dr. Müller, Nr. 5 & Co.", "Doktor Müller, Nummer fünf und Co."),
        ("Es ist -5 °C und 3 km weit.", "Es ist minus fünf Grad Celsius und drei Kilometer weit."),
        ("Von 2-3 Uhr.", "Von zwei bis drei Uhr."),
    ],
)
def test_german(written: str, spoken: str) -> None:
    assert normalize_for_speech(written, "de") == spoken


@pytest.mark.parametrize(
    ("language", "text", "sentences"),
    [
        ("de", "Am 3. Oktober kam er. Danach ging er z. B. nach Hause. Dr. Müller sagte es usw. "
         "Die Leute lachten.", ["Am 3. Oktober kam er.", "Danach ging er z. B. nach Hause.",
                                "Dr. Müller sagte es usw.", "Die Leute lachten."]),
        ("de", "Der 2. Weltkrieg endete 1945. Danach kam der Frieden.",
         ["Der 2. Weltkrieg endete 1945.", "Danach kam der Frieden."]),
        ("fr", "M. Dupont est venu. Il a dit « Bonjour. » Puis il est parti, etc. Le soir tombait.",
         ["M. Dupont est venu.", "Il a dit « Bonjour. »", "Puis il est parti, etc.",
          "Le soir tombait."]),
        ("fr", "Mme Roy et le Dr Petit sont là. Ils parlent.",
         ["Mme Roy et le Dr Petit sont là.", "Ils parlent."]),
        ("en", 'He said "stop." Then Dr. Smith left. The U.S. team won.',
         ['He said "stop."', "Then Dr. Smith left.", "The U.S. team won."]),
    ],
)  # fmt: skip
def test_sentences_end_where_the_language_says(language: str, text: str,
                                                sentences: list[str]) -> None:  # fmt: skip
    assert split_sentences(text, language) == sentences


def test_languages_without_rules_read_numbers_in_their_own_language() -> None:
    assert normalize_for_speech("Son 25 personas (más o menos).", "es-MX") == (
        "Son veinticinco personas, más o menos."
    )
    assert normalize_for_speech("Ci sono 3 case.", "it") == "Ci sono tre case."
    # num2words does not speak Swahili: its numbers are left for a Swahili voice to read.
    assert not language_for("sw").has_number_words
    assert normalize_for_speech("Watu 25 walikuja.", "sw") == "Watu 25 walikuja."
    assert primary_language("pt-BR") == "pt" and language_for("de-AT") is language_for("de")
