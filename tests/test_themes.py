"""The tagger on the hard cases of the labelling guide (tests/data/LABELLING.md), in sentences written for these tests."""

import pytest

from ofsted_kg.extract.model import Passage
from ofsted_kg.extract.polarity import set_polarity
from ofsted_kg.extract.themes import ThemeTagger


@pytest.fixture(scope="module")
def tagger():
    return ThemeTagger()


def tag(tagger, text: str, kind: str = "finding") -> Passage:
    p = Passage(kind=kind, text=text, start=0, end=len(text), ordinal=1)
    sentences = tagger.tag(text, [p])
    if kind == "finding":
        set_polarity([p], sentences)
    return p


@pytest.mark.parametrize("text, absent, present", [
    # a harm named only in a list of groups of children is not a subject
    ("Children at risk of sexual exploitation, going missing or living with domestic abuse are identified quickly "
     "by the multi-agency safeguarding hub.", {"cse", "missing", "domestic-abuse"}, {"front-door"}),
    # names of boards, sub-groups and strategies are not subjects
    ("The quality assurance sub-group of the partnership meets every month.", {"quality-assurance"}, set()),
    ("The neglect strategy was published in the spring.", {"neglect"}, set()),
    # a harm named only as a topic of audits or a list of issues is not a subject
    ("The partnership completed three audits this year, on neglect, on sexual exploitation and on the use of "
     "chronologies, and shared the learning widely.", {"neglect", "cse"}, {"multi-agency"}),
    ("Young members of the board raise awareness of issues such as bullying, online safety and sexual exploitation.",
     {"cse"}, set()),
    # negation
    ("No children live in private fostering arrangements in the borough.", {"private-fostering"}, set()),
    ("There were no concerns about missing children in the cases that inspectors sampled, and children's plans were "
     "reviewed on time.", {"missing"}, {"planning"}),
    # pathway plans are care-leavers, not planning
    ("Pathway plans are written with young people and are updated when their circumstances change.",
     {"planning"}, {"care-leavers"}),
    # a recorded management rationale is management oversight, not case recording
    ("Managers record a clear rationale for their decisions on children's records.",
     {"case-recording"}, {"management-oversight"}),
    # early help assessments are early help, not assessment
    ("Early help assessments are thorough and lead to support that makes a difference for families.",
     {"assessment"}, {"early-help"}),
])
def test_hard_cases_themes(tagger, text, absent, present):
    p = tag(tagger, text)
    assert not (set(p.themes) & absent), p.themes
    assert present <= set(p.themes), p.themes


def test_subjects_still_found_beside_the_hard_cases(tagger):
    p = tag(tagger, "Return home interviews are completed for most children who go missing, and the information "
                    "from them is used to disrupt sexual exploitation.")
    assert {"missing", "cse"} <= set(p.themes)
    p = tag(tagger, "The neglect strategy has improved how practitioners identify chronic neglect.")
    assert "neglect" in p.themes
    p = tag(tagger, "Not all children are seen alone, so their wishes and feelings are not always understood.")
    assert "voice-of-child" in p.themes
    # an audit's findings about a harm make it a subject; only a listed topic does not
    p = tag(tagger, "An audit of neglect cases found that chronic neglect is now recognised early by social workers.")
    assert "neglect" in p.themes
    p = tag(tagger, "Audits show that children at risk of sexual exploitation are well protected by a skilled team.")
    assert "cse" in p.themes


@pytest.mark.parametrize("text, polarity", [
    # concessions and plans not yet showing impact are not strengths
    ("Leaders have recently introduced a new neglect toolkit, but it is too early to see its impact.", "weakness"),
    ("An action plan to improve the timeliness of assessments has been agreed but is not yet embedded.", "weakness"),
    ("Leaders know that more needs to be done to improve the quality of plans.", "weakness"),
    ("Social workers know their children well and visit them regularly.", "strength"),
    ("Most assessments are thorough. However, a small number do not consider the history of the family.", "mixed"),
    ("The local authority had 420 children in care at the time of the inspection.", "neutral"),
    # a denied harm is not a shortfall; a negation that only says which children is not either
    ("Strategy meetings are timely, and children are not left in situations of unassessed risk.", "strength"),
    ("Adopters are matched with children promptly and without delay.", "strength"),
    ("Children who do not attend school are quickly identified and supported.", "strength"),
    # a good word negated or hedged is a shortfall; progress only conceded is not a strength
    ("The new assessment tool is not well embedded across teams.", "weakness"),
    ("There is no clear plan for permanence for these children.", "weakness"),
    ("Despite some improvements, the quality of plans remains variable.", "weakness"),
    # an aim is not a strength; low vacancies are not a shortfall
    ("Plans are reviewed each month to ensure that they remain effective.", "neutral"),
    ("Vacancy rates are low and staff benefit from manageable caseloads.", "strength"),
    # regular and routine practice is good practice; turnover is a shortfall unless it is low
    ("Children are visited regularly, and their plans are routinely reviewed.", "strength"),
    ("High turnover of social workers means that children have to tell their stories again.", "weakness"),
    ("Staff turnover is low and morale is high.", "strength"),
    # delay kept to a minimum and harm that children are kept from are not shortfalls
    ("Assessments are thorough and completed with minimal delay.", "strength"),
    ("Oversight by managers is effective, so children do not remain living in unacceptable circumstances.", "strength"),
    ("Social workers are not afraid to challenge parents, and they do so sensitively.", "strength"),
])
def test_hard_cases_polarity(tagger, text, polarity):
    assert tag(tagger, text).polarity == polarity


def test_every_theme_keeps_a_mention_with_offsets(tagger):
    text = "Chronic neglect is recognised early, and strategy meetings are held promptly."
    p = tag(tagger, text)
    assert set(p.themes) == {m.theme for m in p.mentions}
    for m in p.mentions:
        assert text[m.start:m.end] == m.text


def test_polarity_model_is_packaged_and_keeps_facts_neutral():
    from ofsted_kg.extract.polarity import packaged_polarity_model, passage_polarity, rule_polarity

    assert packaged_polarity_model() is not None
    facts = ["The partnership board met four times in the year.", "It has 14 members from partner agencies."]
    assert rule_polarity(facts) == passage_polarity(facts) == "neutral"
    # with no model the rules decide: a strength and a shortfall in one passage is mixed
    text = ["Social workers know their children well.", "Too many plans lack clear timescales."]
    assert passage_polarity(text, model=None) == "mixed"


def _text_model(outputs, weights, bias):
    """A LinearText over a few words (idf 1), for tests that must not depend on trained weights."""
    import numpy as np
    from ofsted_kg.extract.text_model import LinearText

    terms = sorted(weights)
    return LinearText(tuple(outputs), {t: i for i, t in enumerate(terms)}, np.ones(len(terms)),
                      np.array([weights[t] for t in terms], dtype=float), np.array(bias, dtype=float))


def test_text_scores_of_many_texts_are_each_text_scored_alone():
    import numpy as np
    from ofsted_kg.extract.text_model import words

    model = _text_model(["a", "b"], {"plan": [1.0, -2.0], "visit": [0.5, 3.0], "class": [2.0, 0.0]}, [0.1, -0.1])
    model = type(model)(model.outputs, model.index, np.array([1.0, 2.5, 1.5]), model.weights, model.bias)
    texts = ["Plans and visits.", "", "No word it knows.", "A plan, a plan, classes and a visit; the class plans."]
    assert words(texts[3]) == ["plan", "plan", "classe", "and", "visit", "the", "class", "plan"]
    batch = model.text_scores(texts)
    for text, row in zip(texts, batch):
        assert np.allclose(row, model.scores(words(text)))
    assert np.allclose(batch[1], model.bias) and np.allclose(batch[2], model.bias)
    # one plan (idf 2.5), one visit (idf 1.5), unit length: a = (2.5 * 1.0 + 1.5 * 0.5) / sqrt(2.5² + 1.5²) + 0.1
    assert batch[0][0] == pytest.approx(0.1 + 3.25 / 8.5 ** 0.5)


def test_negated_words_are_the_words_a_negator_governs_in_its_clause():
    from ofsted_kg.extract.text_model import negated_words

    assert negated_words("Plans are not always reviewed on time, and managers check them.") == [
        "not:alway", "not:reviewed", "not:on"]  # three words, plural -s dropped as words() does
    assert negated_words("Visits are not timely; children see their workers.") == ["not:timely"]  # the clause ends
    assert negated_words("There is no clear record and children don't know why.") == [
        "not:clear", "not:record", "not:and", "not:know", "not:why"]
    assert negated_words("A lack of challenge (at the panel) means cases drift.") == ["not:of", "not:challenge"]
    assert negated_words("Notes are nonetheless thorough and knowledgeable.") == []  # whole words only


def test_sentence_tokens_are_the_negated_words_then_the_pairs_of_neighbouring_words():
    from ofsted_kg.extract.text_model import sentence_tokens, word_pairs

    assert word_pairs("Visits are too slow.") == ["visit are", "are too", "too slow"]
    assert word_pairs("Too") == [] and word_pairs("") == []
    # a pair is two tokens of words(): plural -s dropped, one-letter words and punctuation skipped
    assert word_pairs("Plans lack detail; a manager signs them.") == [
        "plan lack", "lack detail", "detail manager", "manager sign", "sign them"]
    assert sentence_tokens("Plans are not updated.") == ["not:updated", "plan are", "are not", "not updated"]


def test_text_scores_with_extra_tokens_score_the_words_and_the_extra_together():
    import numpy as np
    from ofsted_kg.extract.text_model import negated_words, words

    model = _text_model(["s", "w"], {"timely": [2.0, -1.0], "not:timely": [-3.0, 4.0], "visit": [0.5, 0.0]}, [0.0, 0.0])
    texts = ["Visits are timely.", "Visits are not timely.", "Visits are not always made in a timely way."]
    extra = [negated_words(t) for t in texts]
    batch = model.text_scores(texts, extra)
    for text, more, row in zip(texts, extra, batch):
        assert np.allclose(row, model.scores(words(text) + more))
    assert batch[0][0] > 0 > batch[1][0] and batch[1][1] > 0  # "not timely" weighs as a shortfall
    assert np.allclose(batch[2], model.scores(words(texts[2])))  # "timely" is the fifth word after "not"


def test_text_model_adds_an_unnamed_theme_with_its_sentence_but_not_one_the_rules_dropped():
    from ofsted_kg.extract.theme_model import ThemeModel
    from ofsted_kg.extract.themes import ThemeTagger

    # "groomed" alone makes cse likely; no candidate is kept (bias -30)
    model = ThemeModel({}, -30.0, 0.5, _text_model(["cse"], {"groomed": [20.0]}, [-5.0]), add_threshold=0.5)
    tagger = ThemeTagger(model=model)
    text = "The team meets weekly. Girls who are groomed online get help from a specialist worker."
    p = tag(tagger, text)
    assert p.themes == ["cse"]
    (m,) = p.mentions
    assert m.text == text[m.start:m.end] == "Girls who are groomed online get help from a specialist worker."
    # a label the group-list rule dropped keeps the theme out, whatever the words say
    text = ("Children at risk of sexual exploitation, going missing or living with domestic abuse are identified "
            "quickly, and girls who are groomed get help.")
    assert "cse" not in tag(tagger, text).themes
    # below add_threshold nothing is added
    assert tag(ThemeTagger(model=ThemeModel({}, -30.0, 0.5, model.text, 1.01)),
               "Girls who are groomed online get help.").themes == []


def test_a_passage_without_counted_cues_is_never_a_weakness():
    from ofsted_kg.extract.polarity import LABELS, PolarityModel, passage_polarity

    # words that push hard towards weakness, as a trained model's might
    model = PolarityModel({label: {} for label in LABELS},
                          _text_model(LABELS, {"meet": [1.0, 9.0, 1.0, 0.0], "board": [3.0, 9.0, 1.0, 0.0]}, [0] * 4))
    assert passage_polarity(["The board meets every month."], model) == "strength"  # no cue: strength or neutral
    assert passage_polarity(["The board met 11 times in the year."], model) == "neutral"  # figures: a fact
    assert passage_polarity(["The board meets to ensure that plans are effective."], model) == "neutral"  # an aim
    assert passage_polarity(["The board does not meet often enough."], model) == "weakness"  # a counted shortfall


def test_sentence_model_tells_strength_and_shortfall_sentences_apart():
    from ofsted_kg.extract.polarity import _lowered_polarity, packaged_polarity_model

    model = packaged_polarity_model().sentence
    sents = ["Social workers visit children regularly and know them well.",
             "Too many children wait too long for an assessment of their needs.",
             "Managers have introduced a new audit tool, but it is too early to see its impact."]
    p = model.probabilities(sents, [_lowered_polarity(s.lower()) for s in sents])
    assert p[0][0] > 0.5 > p[0][1]  # a strength
    assert p[1][1] > 0.5 > p[1][0]  # a shortfall
    assert p[2][0] < 0.5  # a plan not yet showing impact is not a strength


def test_passages_predicted_together_get_what_each_gets_alone():
    from ofsted_kg.extract.polarity import packaged_polarity_model

    model = packaged_polarity_model()
    passages = [["Most children's plans are clear.", "A minority lack timescales."], [],
                ["The panel met 12 times."], ["Leaders know that more needs to be done to reduce drift."],
                ["Return home interviews are offered promptly and the learning is used well."]]
    assert model.predict_many(passages) == [model.predict(p) for p in passages]
    assert model.predict_many(passages)[-1] == "strength"
