"""SHACL shapes: a correct graph conforms; each deliberately broken graph is rejected with a named rule."""

import pytest
from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal
from rdflib.namespace import RDF, XSD

from ofsted_kg.extract.graph import build_graph
from ofsted_kg.extract.ns import AREA, GRADE, ID, KIND, OFK, POLARITY, THEME
from ofsted_kg.extract.resources import shapes_graph
from ofsted_kg.extract.validate import validate_graph


@pytest.fixture(scope="module")
def good_graph(extractions) -> Graph:
    return build_graph(extractions["000_4fd3cb4d566c6112.txt"], "test")


def _eval(g):
    return next(g.subjects(RDF.type, OFK.Inspection))


def test_shapes_seed_graph_conforms(good_graph):
    assert validate_graph(good_graph) == []


def test_shapes_pass_meta_shacl():
    conforms, _, text = shacl_validate(shapes_graph(), shacl_graph=None, meta_shacl=True, advanced=True)
    assert conforms, text


def _broken(good_graph, change):
    g = Graph()
    g += good_graph
    change(g)
    return validate_graph(g)


def test_shapes_reject_grade_outside_scheme(good_graph):
    def change(g):
        j = ID["judgement/" + str(next(g.subjects(OFK.area, AREA.overall))).rsplit("/", 1)[1]]
        g.set((j, OFK.grade, GRADE["excellent"]))
    found = _broken(good_graph, change)
    assert any(v.focus.endswith("-overall") and "grade" in v.message.lower() for v in found), found


def test_shapes_reject_end_before_start(good_graph):
    def change(g):
        ev = _eval(g)
        g.set((ev, OFK.endDate, Literal("2016-05-01", datatype=XSD.date)))
    found = _broken(good_graph, change)
    assert any(v.focus.startswith("id:evaluation/") and "start" in v.message.lower() for v in found), found


def test_shapes_reject_finding_without_evaluation(good_graph):
    finding = ID["finding/" + "x"]

    def change(g):
        nonlocal finding
        finding = next(g.subjects(RDF.type, OFK.Finding))
        g.remove((finding, OFK.evaluation, None))
    found = _broken(good_graph, change)
    name = "id:" + str(finding).split("/id/", 1)[1]
    assert any(v.focus == name and "evaluation" in v.message.lower() for v in found), found


def test_shapes_reject_theme_without_mention(good_graph):
    def change(g):
        finding = next(g.subjects(RDF.type, OFK.Finding))
        g.add((finding, OFK.theme, THEME["young-carers"]))
    found = _broken(good_graph, change)
    assert any("mention" in v.message.lower() and "young-carers" in (str(v) ) for v in found), found


def test_shapes_reject_area_the_kind_cannot_grade(good_graph):
    def change(g):
        g.set((_eval(g), OFK.kind, KIND["focused-visit"]))
    found = _broken(good_graph, change)
    assert any(v.focus.startswith("id:judgement/") and "area" in v.message.lower() for v in found), found


def test_shapes_reject_two_judgements_for_one_area(good_graph):
    def change(g):
        extra = ID["judgement/extra-overall"]
        ev = _eval(g)
        for p, o in ((RDF.type, OFK.Judgement), (OFK.evaluation, ev), (OFK.area, AREA.overall), (OFK.grade, GRADE.good)):
            g.add((extra, p, o))
        g.add((extra, OFK.text if False else ID["x"], Literal("x")))
    found = _broken(good_graph, change)
    assert any("one judgement" in v.message.lower() or "more than one" in v.message.lower() for v in found), found


BREAKS = {
    "grade": lambda g: g.set((next(g.subjects(OFK.area, AREA.overall)), OFK.grade, GRADE["excellent"])),
    "dates": lambda g: g.set((_eval(g), OFK.endDate, Literal("2016-05-01", datatype=XSD.date))),
    "no-evaluation": lambda g: g.remove((next(g.subjects(RDF.type, OFK.Finding)), OFK.evaluation, None)),
    "no-mention": lambda g: g.add((next(g.subjects(RDF.type, OFK.Finding)), OFK.theme, THEME["young-carers"])),
    "kind": lambda g: g.set((_eval(g), OFK.kind, KIND["focused-visit"])),
    "text-missing": lambda g: g.remove((next(g.subjects(RDF.type, OFK.Recommendation)), OFK.text, None)),
    "number-type": lambda g: g.set((next(g.subjects(RDF.type, OFK.Finding)), OFK.number, Literal("twelve"))),
    "negative-offset": lambda g: g.set((next(g.subjects(RDF.type, OFK.ThemeMention)), OFK.charStart, Literal(-3))),
    "tally-count": lambda g: _bump_tally(g),
    "tally-missing": lambda g: g.remove((next(g.subjects(RDF.type, OFK.ThemeTally)), None, None)),
    "pair-missing": lambda g: g.remove((next(g.subjects(OFK.themePair, None)), OFK.themePair, None)),
    "none": lambda g: None,
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_shapes_fast_engine_agrees_with_pyshacl(good_graph, name):
    """The SPARQL compilation of the shapes finds what pyshacl finds, rule for rule."""
    g = Graph()
    g += good_graph
    BREAKS[name](g)
    fast = {(v.focus, v.message) for v in validate_graph(g)}
    reference = {(v.focus, v.message) for v in validate_graph(g, engine="pyshacl")}
    assert fast == reference
    assert bool(fast) == (name != "none")


def _bump_tally(g):
    tally = next(g.subjects(RDF.type, OFK.ThemeTally))
    g.set((tally, OFK.findingCount, Literal(g.value(tally, OFK.findingCount).toPython() + 1)))


def _tally(g, theme, polarity):
    return next(t for t in g.subjects(OFK.tallyTheme, THEME[theme]) if g.value(t, OFK.tallyPolarity) == POLARITY[polarity])


def test_shapes_tallies_count_the_findings(good_graph):
    """The seed's tallies equal the findings counted in Python, and a wrong count is named."""
    from collections import Counter

    counted = Counter((t, p) for f in good_graph.subjects(RDF.type, OFK.Finding)
                      for p in good_graph.objects(f, OFK.polarity) for t in good_graph.objects(f, OFK.theme))
    tallies = {(good_graph.value(t, OFK.tallyTheme), good_graph.value(t, OFK.tallyPolarity)):
               good_graph.value(t, OFK.findingCount).toPython() for t in good_graph.subjects(RDF.type, OFK.ThemeTally)}
    assert tallies == dict(counted) and len(tallies) > 20
    found = _broken(good_graph, _bump_tally)
    assert any(v.path == "ofk:findingCount" and "must equal the findings" in v.message for v in found), found


def test_shapes_reject_tally_missing_or_twice(good_graph):
    tally = _tally(good_graph, "neglect", "weakness")
    found = _broken(good_graph, lambda g: g.remove((tally, None, None)))
    assert any(v.focus.startswith("id:evaluation/") and "finding-theme links" in v.message for v in found), found

    def twice(g):
        copy = ID["tally/copy"]
        for p, o in good_graph.predicate_objects(tally):
            g.add((copy, p, o))
    found = _broken(good_graph, twice)
    assert any("count the same evaluation" in v.message for v in found), found


def test_shapes_theme_pairs_match_the_themes(good_graph):
    """Every two themes of a finding have their pair, and a pair needs both themes."""
    from itertools import combinations

    from ofsted_kg.extract.graph import theme_pair_iri

    for f in good_graph.subjects(RDF.type, OFK.Finding):
        ids = sorted(str(t).rsplit("/", 1)[1] for t in good_graph.objects(f, OFK.theme))
        assert set(good_graph.objects(f, OFK.themePair)) == {theme_pair_iri(a, b) for a, b in combinations(ids, 2)}
    for r in good_graph.subjects(RDF.type, OFK.Recommendation):
        assert good_graph.value(r, OFK.themePair) is None
    finding = next(f for f in good_graph.subjects(OFK.themePair, None))
    found = _broken(good_graph, lambda g: g.remove((finding, OFK.themePair, None)))
    assert any("but not their pair" in v.message for v in found), found
    stray = theme_pair_iri("young-carers", "youth-justice")
    found = _broken(good_graph, lambda g: g.add((finding, OFK.themePair, stray)))
    assert any("does not carry both its themes" in v.message for v in found), found


def test_shapes_theme_pairs_of_the_reference_conform():
    """The 861 pairs made from the 42 themes pass their shape (pyshacl, with the theme scheme)."""
    from ofsted_kg.extract.resources import ontology_graph

    from rdflib.namespace import SKOS

    ref = ontology_graph()
    pairs = set(ref.subjects(RDF.type, OFK.ThemePair))
    assert len(pairs) == 42 * 41 // 2
    for pair in pairs:
        first, second = (str(ref.value(ref.value(pair, p), SKOS.notation)) for p in (OFK.firstTheme, OFK.secondTheme))
        assert first < second and str(pair).endswith(f"/theme-pair/{first}/{second}")
    conforms, _, text = shacl_validate(ref, shacl_graph=shapes_graph(), advanced=True)
    assert conforms, text
