"""The command line end to end on the seeds: ingest, query, export, validate, stats, errors."""

import csv
import io
import json

import pytest
from click.testing import CliRunner
from rdflib import Dataset, Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from conftest import SEEDS
from ofsted_kg.cli import cli


def run(*args, **kw):
    return CliRunner().invoke(cli, [str(a) for a in args], **kw)


def rows(result):
    assert result.exit_code == 0, result.output + str(result.exception)
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_cli_recurring_themes_across_three_authorities(seed_store):
    found = {r["theme"]: r for r in rows(run("query", "recurring-themes", "-S", seed_store, "-f", "csv"))}
    for theme in ("cse", "missing", "thresholds"):
        assert int(found[theme]["authorities"]) == 3, theme
    # every recurring theme is traceable to passages in each of the three authorities
    for theme in ("cse", "missing", "thresholds"):
        evidence = rows(run("query", "theme-evidence", "-S", seed_store, "-f", "csv", "-p", "theme", theme))
        assert {r["authority_name"] for r in evidence} >= {"Reading", "South Gloucestershire", "Buckinghamshire"}
        assert all(r["file"] and r["text"] and r["matched_text"] for r in evidence)
        assert any(r["number"] for r in evidence)


def test_cli_theme_evidence_for_one_authority(seed_store):
    evidence = rows(run("query", "theme-evidence", "-S", seed_store, "-f", "csv", "-p", "theme", "cse", "-p", "authority", "Reading"))
    assert evidence and {r["authority_name"] for r in evidence} == {"Reading"}
    assert "39" in {r["number"] for r in evidence if r["file"].startswith("000_")}


def test_cli_judgements_query(seed_store):
    got = rows(run("query", "judgements", "-S", seed_store, "-f", "csv", "-p", "authority", "870"))
    grades = {(r["published"], r["area_id"]): r["grade_id"] for r in got}
    assert grades[("2016-08-05", "lscb")] == "requires-improvement"
    assert grades[("2016-08-05", "overall")] == "inadequate"
    assert len(got) == 7  # the focused visit and the committee report carry no grades


def test_cli_query_formats(seed_store):
    for fmt in ("table", "csv", "tsv", "json", "markdown"):
        result = run("query", "recurring-themes", "-S", seed_store, "-f", fmt, "--limit", "3")
        assert result.exit_code == 0, result.output
    data = json.loads(run("query", "recurring-themes", "-S", seed_store, "-f", "json").stdout)
    assert data["head"]["vars"][:2] == ["theme", "label"]
    assert data["results"]["bindings"][0]["authorities"]["datatype"].endswith("#integer")


def test_cli_query_parameters_are_bound_not_pasted(seed_store, tmp_path):
    rq = tmp_path / "by-text.rq"
    rq.write_text(
        "# Findings whose text equals a value.\n#\n# Parameters:\n#   needle  string  -  the text\n"
        "PREFIX ofk: <https://w3id.org/ofsted-kg/ont#>\nSELECT ?f WHERE { ?f ofk:text ?needle }\n"
    )
    hostile = '" } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o } #\' {{ UNION }} <http://x>'
    result = run("query", rq, "-S", seed_store, "-f", "csv", "-p", "needle", hostile)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "f"  # no rows: the value was matched as a plain string
    bad = run("query", "theme-evidence", "-S", seed_store, "-p", "theme", 'cse" } UNION { ?s ?p ?o')
    assert bad.exit_code == 2 and "is not a theme id" in bad.stderr
    again = rows(run("query", "recurring-themes", "-S", seed_store, "-f", "csv"))
    assert again, "the store still answers"


def test_cli_query_unknown_name_and_parameter(seed_store):
    result = run("query", "no-such-query", "-S", seed_store)
    assert result.exit_code == 2 and "recurring-themes" in result.stderr
    result = run("query", "recurring-themes", "-S", seed_store, "-p", "colour", "red")
    assert result.exit_code == 2 and "min_authorities" in result.stderr


def test_cli_queries_lists_descriptions():
    from ofsted_kg.extract.queries import named_queries

    result = run("queries")
    assert result.exit_code == 0
    for name, nq in named_queries().items():
        assert f"{name}\n    {nq.description}" in result.stdout and f"example: {nq.example}" in result.stdout
    assert "-p theme <theme>  the theme id (e.g. cse, missing, thresholds) (required)" in result.stdout
    assert "-p min_count <integer>  fewest findings a pair must share [default: 5]" in result.stdout


def test_cli_ingest_twice_changes_nothing(seed_store, tmp_path):
    before = run("export", "-S", seed_store, "-f", "nt").stdout
    again = run("ingest", "-s", "-S", seed_store, SEEDS)
    assert again.exit_code == 0 and "0 stored, 5 unchanged" in again.stderr
    assert run("export", "-S", seed_store, "-f", "nt").stdout == before


def test_cli_validate_stored_graphs_conform(seed_store):
    result = run("validate", "-S", seed_store)
    assert result.exit_code == 0, result.stderr
    assert "5 documents checked, 0 with violations" in result.stderr


def test_cli_stats(seed_store):
    out = run("stats", "-S", seed_store).stdout
    assert "documents:\t5" in out and "  sif:\t2" in out and "  committee-report:\t1" in out


@pytest.mark.parametrize("fmt,parse_as", [("turtle", "turtle"), ("nt", "nt")])
def test_cli_export_round_trip_triples(seed_store, tmp_path, fmt, parse_as):
    out = tmp_path / f"kg.{fmt}"
    assert run("export", "-S", seed_store, "-f", fmt, "-o", out).exit_code == 0
    reference = Graph().parse(data=run("export", "-S", seed_store, "-f", "nt").stdout, format="nt")
    back = Graph().parse(out, format=parse_as)
    assert len(back) == len(reference) > 10000
    assert isomorphic(back, reference), graph_diff(to_isomorphic(back), to_isomorphic(reference))


@pytest.mark.parametrize("fmt", ["json-ld", "trig"])
def test_cli_export_round_trip_datasets(seed_store, tmp_path, fmt):
    out = tmp_path / f"kg.{fmt}"
    assert run("export", "-S", seed_store, "-f", fmt, "-o", out).exit_code == 0
    reference = Graph().parse(data=run("export", "-S", seed_store, "-f", "nt").stdout, format="nt")
    ds = Dataset()
    ds.parse(out, format=fmt)
    back = Graph()
    for g in ds.graphs():
        back += g
    assert isomorphic(back, reference)
    if fmt == "json-ld":
        doc = json.loads(out.read_text())
        assert "@context" in doc and "hasTheme" in out.read_text()  # readable keys


def test_cli_bad_inputs_reported_and_batch_goes_on(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(bytes(range(256)) * 8)
    unknown = tmp_path / "nowhere.txt"
    text = (SEEDS / "000_4fd3cb4d566c6112.txt").read_text(encoding="utf-8")
    unknown.write_text(text.replace("Reading", "Atlantis"), encoding="utf-8")
    missing = tmp_path / "missing.txt"
    good = SEEDS / "003_702d53c0cbc2473f.txt"
    store = tmp_path / "kg"
    result = run("ingest", "-s", "-S", store, empty, binary, unknown, missing, good)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert f"Error: {empty}: the file is empty" in lines
    assert f"Error: {binary}: not a text or PDF file (binary content)" in lines
    assert any(line.startswith(f"Error: {unknown}: no authority in the register matches") for line in lines)
    assert f"Error: {missing}: no such file" in lines
    assert "1 stored, 0 unchanged (already in the store), 4 failed" in result.stderr
    assert "documents:\t1" in run("stats", "-S", store).stdout


def test_cli_every_command_has_help():
    for name, command in cli.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0 and command.get_short_help_str(), name
