"""extract/ns.py stays in step with ontology/ofsted-kg.ttl, and every term is documented."""

import sys

from rdflib import RDFS, Graph
from rdflib.namespace import SKOS

from conftest import ROOT, SHARED
from ofsted_kg.extract.resources import data_file, ontology_graph, parse_turtle

sys.path.insert(0, str(ROOT / "tools"))
from make_ns import render, terms  # noqa: E402


def test_ns_generated_from_ontology():
    assert (ROOT / "extract" / "ns.py").read_text() == render(terms())


def test_ns_every_term_has_label_and_comment():
    g = parse_turtle(data_file("ontology", "ofsted-kg.ttl"), Graph())
    from ofsted_kg.extract.ns import OFK

    for name in terms():
        term = OFK[name]
        assert g.value(term, RDFS.label), name
        assert g.value(term, RDFS.comment), name


def test_ns_contract_terms_present():
    """Every ofk: term of the vocabulary contract exists in the ontology."""
    import re

    contract = (SHARED / "spec" / "vocabulary.md").read_text()
    wanted = set(re.findall(r"ofk:(\w+)", contract))
    assert wanted <= set(terms()), wanted - set(terms())


def test_ns_all_theme_ids_of_the_contract():
    import re

    spec = (SHARED / "spec" / "themes.md").read_text()
    ids = set(re.findall(r"^\| ([a-z0-9-]+) \| ", spec, re.M)) - {"id"}
    g = ontology_graph()
    notations = {str(n) for c, n in g.subject_objects(SKOS.notation) if "/theme/" in str(c)}
    polarity = {"strength", "weakness", "mixed", "neutral"}
    assert ids - polarity <= notations and len(notations) >= 42
    for concept in (c for c in g.subjects(SKOS.notation, None) if "/theme/" in str(c)):
        assert g.value(concept, SKOS.definition) and g.value(concept, SKOS.prefLabel)
