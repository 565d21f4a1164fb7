"""The facts each seed prints, as the pipeline reads them (facts checked by hand in data/seed_facts.json)."""

from datetime import date

import pytest

from conftest import SEEDS

SEED_NAMES = sorted(p.name for p in SEEDS.iterdir())


def _iso(d):
    return d.isoformat() if d else None


@pytest.mark.parametrize("name", SEED_NAMES)
def test_pipeline_kind_authority_dates(name, extractions, seed_facts):
    facts = seed_facts[name]
    ev = extractions[name].evaluations[0]
    assert ev.kind == facts["kind"]
    assert ev.authority == str(facts["la_code"])
    assert _iso(ev.start) == facts["start_date"]
    assert _iso(ev.end) == facts["end_date"]
    expected_published = facts["published"] or facts.get("report_date")
    assert _iso(ev.published) == expected_published


@pytest.mark.parametrize("name", SEED_NAMES)
def test_pipeline_judgements(name, extractions, seed_facts):
    ev = extractions[name].evaluations[0]
    got = sorted((j.area, j.grade) for j in ev.judgements)
    assert got == sorted((j["area"], j["grade"]) for j in seed_facts[name]["judgements"])


def test_pipeline_reading_2016_judgements_as_printed(extractions):
    ev = extractions["000_4fd3cb4d566c6112.txt"].evaluations[0]
    grades = {j.area: j.grade for j in ev.judgements}
    for area in ("overall", "help-and-protection", "in-care", "leadership"):
        assert grades[area] == "inadequate"
    assert grades["adoption"] == grades["care-leavers"] == grades["lscb"] == "requires-improvement"
    assert (ev.start, ev.end, ev.published) == (date(2016, 5, 23), date(2016, 6, 15), date(2016, 8, 5))


@pytest.mark.parametrize("name", SEED_NAMES)
def test_pipeline_recommendations(name, extractions, seed_facts):
    facts = seed_facts[name]
    recs = extractions[name].evaluations[0].recommendations
    board = [r for r in recs if r.area == "lscb"]
    if facts["kind"] == "focused-visit":
        assert len(recs) == facts["improvements"] == 4
        assert all(r.number is None for r in recs)
    else:
        assert len(recs) - len(board) == facts["recommendations"]
        assert len(board) == facts["board_recommendations"]
        la = [r.number for r in recs if r.area != "lscb"]
        assert la == list(range(1, facts["recommendations"] + 1))


@pytest.mark.parametrize("name", [n for n in SEED_NAMES if not n.startswith(("002", "004"))])
def test_pipeline_numbered_findings(name, extractions, seed_facts):
    facts = seed_facts[name]["numbered_findings"]
    findings = extractions[name].evaluations[0].findings
    numbers = [f.number for f in findings]
    assert len(numbers) == facts["count"]
    assert numbers[0] == facts["first_number"] and numbers[-1] == facts["last_number"]
    assert len(set(numbers)) == len(numbers)
    marks = seed_facts[name]["recommendation_marks"]
    assert sum(f.underpins_recommendation for f in findings) == marks["count"]
    if "paragraphs" in marks:
        assert sorted(f.number for f in findings if f.underpins_recommendation) == sorted(marks["paragraphs"])


def test_pipeline_focused_visit_findings(extractions, seed_facts):
    findings = extractions["002_06bdabc3c54811b2.txt"].evaluations[0].findings
    main = [f for f in findings if f.section is None or "main" in (f.section or "").lower()]
    assert len(findings) == 16  # 3 headline findings + 13 main findings paragraphs
    assert seed_facts["002_06bdabc3c54811b2.txt"]["numbered_findings"]["unnumbered_main_findings_paragraphs"] == 13
    assert all(f.number is None for f in findings) and main


def test_pipeline_committee_report(extractions, seed_facts):
    ex = extractions["004_4c2d7d071b18bcbd.txt"]
    ev = ex.evaluations[0]
    assert ev.is_self_evaluation and ev.authority == "870"
    labels = [f.label for f in ev.findings]
    printed = seed_facts["004_4c2d7d071b18bcbd.txt"]["numbered_findings"]["paragraph_numbers"]
    # the recommended action (2.1) and the council's standard closing sections (12.1-17.1) are not findings
    assert labels == [p for p in printed if p != "2.1" and int(p.split(".")[0]) < 12]


@pytest.mark.parametrize("name", SEED_NAMES)
def test_pipeline_offsets_point_into_normalised_text(name, extractions):
    ex = extractions[name]
    text = ex.normalised.text
    for ev in ex.evaluations:
        for p in ev.findings + ev.recommendations:
            assert " ".join(text[p.start:p.end].split()).endswith(p.text[-40:])
            for m in p.mentions:
                assert p.start <= m.start < m.end <= p.end
                assert text[m.start:m.end] == m.text


def test_pipeline_seed_themes(extractions):
    """Each of the three full inspections has findings on CSE, missing children and thresholds."""
    for name in ("000_4fd3cb4d566c6112.txt", "001_b192b04e17b22324.txt", "003_702d53c0cbc2473f.txt"):
        themes = {t for f in extractions[name].evaluations[0].findings for t in f.themes}
        assert {"cse", "missing", "thresholds"} <= themes, name


def test_sentence_ends_split_on_full_stops_before_capitals_only():
    from ofsted_kg.extract.themes import sentence_ends

    text = 'Leaders act quickly. Plans (e.g. for care leavers) are clear. "Visits are late." 12 cases drift? Yes'
    ends = sentence_ends(text)
    assert [text[a:b].strip() for a, b in zip([0] + ends[:-1], ends)] == [
        "Leaders act quickly.", "Plans (e.g. for care leavers) are clear.", '"Visits are late."', "12 cases drift?", "Yes"]
    assert sentence_ends("") == [0] and sentence_ends("No full stop") == [12]
