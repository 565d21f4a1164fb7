"""Normalisation: conversion noise removed, paragraphs rebuilt, offsets exact."""

from hypothesis import given
from hypothesis import strategies as st

from ofsted_kg.extract.normalise import clean_inline, normalise_text


def test_normalise_strips_markup():
    assert clean_inline("# **Executive summary**") == "# Executive summary"
    assert clean_inline(r"Children Board $\ensuremath{\mathsf{Board}}^1$") == "Children Board Board"
    assert clean_inline("<sup>&</sup>lt;sup>1</sup> Footnote") == "Footnote"
    assert clean_inline("the ‘missing’ ﬁles") == "the 'missing' files"


def test_normalise_joins_paragraph_cut_by_page_break():
    norm = normalise_text("- 7. Managers review the plans of children who\n\n\n\nare at risk every month.\n\n- 8. Next.")
    assert [p.text for p in norm.paragraphs] == ["7. Managers review the plans of children who are at risk every month.", "8. Next."]


def test_normalise_drops_page_numbers_and_keeps_bullets():
    norm = normalise_text("Heading\n\n12\n\n- first point\n- second point")
    assert [p.text for p in norm.paragraphs] == ["Heading", "- first point", "- second point"]


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60), max_size=12))
def test_normalise_paragraph_offsets_are_exact(lines):
    norm = normalise_text("\n".join(lines))
    for para in norm.paragraphs:
        assert norm.text[para.start:para.end] == para.text
