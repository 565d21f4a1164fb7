"""Tests of the authority register (ontology/authorities.ttl) and its name resolver."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, URIRef

from ofsted_kg.extract.register import (
    OFK,
    Authority,
    AuthorityError,
    Register,
    load_register,
    register_graph,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
LA_LOOKUP = SHARED / "reference" / "la_lookup.csv"
MANIFEST = SHARED / "corpus" / "ofsted" / "manifest.csv"


def read_csv(path: Path) -> list[dict]:
    if not path.exists():
        pytest.skip(f"{path} is not available")
    with path.open(encoding="utf-8-sig", newline="") as f:  # la_lookup.csv starts with a BOM
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def register() -> Register:
    return load_register()


def test_register_has_every_lookup_row(register):
    rows = read_csv(LA_LOOKUP)
    assert len(rows) == 156
    assert {a.la_code for a in register} == {r["la_code"] for r in rows}
    for r in rows:
        assert register.by_urn(r["urn"]) == register[r["la_code"]]


def test_register_reading(register):
    reading = register["870"]
    assert reading.name == "Reading"
    assert reading.gss_code == "E06000038"
    assert reading.region == "South East"
    assert len(reading.neighbours) == 10
    assert all(n in register for n in reading.neighbours)
    assert not reading.fictional
    assert reading.iri == URIRef("https://w3id.org/ofsted-kg/id/authority/870")
    assert "Reading Borough Council" in reading.names


def test_register_graph_is_complete():
    g = register_graph()
    authorities = set(g.subjects(RDF.type, OFK.Authority))
    assert len(authorities) == 156
    for node in authorities:
        for prop in (OFK.laCode, OFK.gssCode, OFK.region, OFK.regionCode, OFK.laType, OFK.ofstedUrn):
            assert len(list(g.objects(node, prop))) == 1, (node, prop)
        for n in g.objects(node, OFK.statisticalNeighbour):
            assert (n, RDF.type, OFK.Authority) in g, (node, n)
    reading = URIRef("https://w3id.org/ofsted-kg/id/authority/870")
    assert g.value(reading, OFK.regionCode) == Literal("E12000008")
    # rgn22cd in the lookup is wrong for these two; the register follows region_name
    assert g.value(URIRef("https://w3id.org/ofsted-kg/id/authority/825"), OFK.regionCode) == Literal("E12000008")
    assert g.value(URIRef("https://w3id.org/ofsted-kg/id/authority/916"), OFK.regionCode) == Literal("E12000009")


def test_register_file_is_up_to_date(tmp_path):
    read_csv(LA_LOOKUP)
    out = tmp_path / "authorities.ttl"
    subprocess.run([sys.executable, str(REPO / "tools" / "make_register.py"), str(LA_LOOKUP), "-o", str(out)],
                   check=True, capture_output=True)
    assert out.read_text(encoding="utf-8") == (REPO / "ontology" / "authorities.ttl").read_text(encoding="utf-8")


@pytest.mark.parametrize("text, code", [
    ("Reading Borough Council", "870"),
    ("Reading", "870"),
    ("READING BOROUGH COUNCIL", "870"),
    ("Brighter Futures for Children", "870"),
    ("South Gloucestershire", "803"),
    ("Gloucestershire", "916"),
    ("Buckinghamshire County Council", "825"),
    ("Buckinghamshire Council", "825"),
    ("London Borough of Barking and Dagenham", "301"),
    ("London Borough of Hammersmith & Fulham", "205"),
    ("Royal Borough of Windsor and Maidenhead", "868"),
    ("The Royal Borough of Windsor and Maidenhead", "868"),
    ("Windsor & Maidenhead", "868"),
    ("Royal Borough of Kingston upon Thames Council", "314"),
    ("Royal Borough of Greenwich", "203"),
    ("Kingston upon Hull City Council", "810"),
    ("Hull City Council", "810"),
    ("Kingston Upon Hull, City of", "810"),
    ("Bournemouth, Christchurch and Poole Council", "839"),
    ("Bournemouth, Christchurch & Poole", "839"),
    ("BCP Council", "839"),
    ("Bristol", "801"),
    ("Bristol City Council", "801"),
    ("Herefordshire", "884"),
    ("County of Herefordshire", "884"),
    ("Herefordshire Council", "884"),
    ("St Helens", "342"),
    ("St. Helens Metropolitan Borough Council", "342"),
    ("Telford and Wrekin", "894"),
    ("Telford & Wrekin Council", "894"),
    ("Southend-on-Sea", "882"),
    ("Southend", "882"),
    ("Durham", "840"),
    ("County Durham", "840"),
    ("Durham County Council", "840"),
    ("Bedford Borough", "822"),
    ("Bedford", "822"),
    ("Central Bedfordshire", "823"),
    ("Medway Council", "887"),
    ("Medway Children\u2019s Services", "887"),
    ("Council of the Isles of Scilly", "420"),
    ("City of London Corporation", "201"),
    ("London Corporation", "201"),
    ("City of Westminster", "213"),
    ("Westminster", "213"),
    ("York", "816"),
    ("City of York Council", "816"),
    ("North Yorkshire", "815"),
    ("East Riding of Yorkshire", "811"),
    ("East Riding", "811"),
    ("Northamptonshire", "928"),
    ("Northamptonshire County Council", "928"),
    ("North Northamptonshire", "940"),
    ("West Northamptonshire Council", "941"),
    ("Cumbria County Council", "909"),
    ("Cumberland", "942"),
    ("Westmorland and Furness Council", "943"),
    ("Poole", "836"),
    ("Dorset", "838"),
    ("Hampshire", "850"),
    ("North East Lincolnshire", "812"),
    ("Lincolnshire", "925"),
    ("Doncaster Children's Services Trust", "371"),
    ("Doncaster Metropolitan Borough Council", "371"),
    ("Together for Children", "394"),
    ("Birmingham Children\u2019s Trust", "330"),
    ("Sandwell Children's Trust", "333"),
    ("Slough Children First", "871"),
    ("Slough Children's Services Trust", "871"),
    ("City of Bradford Metropolitan District Council", "380"),
    ("Wakefield District Metropolitan Council", "384"),
    ("Metropolitan Borough of Barnsley Council", "370"),
    ("Cheshire East Unitary Authority", "895"),
    ("Nottingham City", "892"),
    ("Nottinghamshire County Council", "891"),
    ("Newcastle Upon Tyne", "391"),
    ("Surrey Safeguarding Children Board", "936"),
])
def test_register_resolve(register, text, code):
    assert register.resolve(text).la_code == code


@pytest.mark.parametrize("text, codes", [
    ("Achieving for Children", {"314", "318", "868"}),
    ("Northamptonshire Children's Trust", {"928", "940", "941"}),
])
def test_register_resolve_ambiguous(register, text, codes):
    with pytest.raises(AuthorityError) as info:
        register.resolve(text)
    assert {a.la_code for a in info.value.candidates} == codes
    message = str(info.value)
    assert "matches several authorities" in message
    for code in codes:
        assert f"{register[code].name} ({code})" in message


@pytest.mark.parametrize("text", ["Bournemouth", "Bedfordshire", "London", "Atlantis County Council", "Council", ""])
def test_register_resolve_unknown(register, text):
    with pytest.raises(AuthorityError, match="no authority in the register matches"):
        register.resolve(text)


def test_register_find_in_longest_match_wins(register):
    found = register.find_in("Inspection of South Gloucestershire local authority children\u2019s services")
    assert [a.la_code for a in found] == ["803"]
    found = register.find_in("North Northamptonshire and West Northamptonshire")
    assert [a.la_code for a in found] == ["940", "941"]
    assert [a.la_code for a in register.find_in("Inspection of Bournemouth,\nChristchurch and Poole")] == ["839"]


def test_register_find_in_whole_capitalised_words(register):
    assert register.find_in("reading the report") == []
    assert [a.la_code for a in register.find_in("READING BOROUGH COUNCIL\nREPORT BY")] == ["870"]
    assert register.find_in("Newcastle-under-Lyme") == []
    assert [a.la_code for a in register.find_in("Central Bedfordshire")] == ["823"]


def test_register_find_in_ambiguous_name_yields_nothing(register):
    assert register.find_in("Northamptonshire Children's Trust") == []
    assert [a.la_code for a in register.find_in("Achieving for Children, Richmond upon Thames")] == ["318"]


def test_register_every_manifest_authority_resolves(register):
    rows = read_csv(MANIFEST)
    for urn, name in sorted({(r["urn"], r["local_authority"]) for r in rows}):
        by_urn = register.by_urn(urn)
        assert by_urn is not None, urn
        assert register.resolve(name) == by_urn, (urn, name)


def test_register_extra_graphs_add_fictional_authorities(register):
    g = Graph()
    node = URIRef("https://w3id.org/ofsted-kg/id/authority/990")
    g.add((node, RDF.type, OFK.Authority))
    g.add((node, OFK.laCode, Literal("990")))
    g.add((node, URIRef("http://www.w3.org/2000/01/rdf-schema#label"), Literal("Middlemarch", lang="en")))
    g.add((node, OFK.fictional, Literal(True)))
    extended = load_register([g])
    assert len(extended) == len(register) + 1
    middlemarch = extended.resolve("Middlemarch County Council")
    assert middlemarch == Authority("990", "Middlemarch", None, None, ("Middlemarch",), (), True)
    assert "990" not in load_register()
