"""Shared fixtures: paths to ../shared, a store loaded with the seed documents."""

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "corpus" / "seeds"
DATA = Path(__file__).resolve().parent / "data"


def pytest_configure(config):
    for name in ("OFSTED_KG_ENDPOINT", "OFSTED_KG_UPDATE_ENDPOINT", "OFSTED_KG_GRAPH_STORE",
                 "OFSTED_KG_USER", "OFSTED_KG_PASSWORD"):
        os.environ.pop(name, None)  # a remote store set in the shell would take over every command
    if not SEEDS.is_dir():
        raise pytest.UsageError(f"the tests read the seed documents from {SEEDS}; put ../shared beside the project")


@pytest.fixture(scope="session")
def seed_facts() -> dict:
    return json.loads((DATA / "seed_facts.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory):
    """A store with the five seeds ingested through the CLI, shared by read-only tests."""
    from click.testing import CliRunner

    from ofsted_kg.cli import cli

    path = tmp_path_factory.mktemp("store") / "kg"
    result = CliRunner().invoke(cli, ["ingest", "--silent", "--store", str(path), str(SEEDS)])
    assert result.exit_code == 0, result.output + str(result.exception)
    return path


@pytest.fixture(scope="session")
def extractions():
    """The pipeline's reading of each seed, by file name."""
    from ofsted_kg.extract.pipeline import extract_file
    from ofsted_kg.extract.register import load_register
    from ofsted_kg.extract.themes import ThemeTagger

    register, tagger = load_register(), ThemeTagger()
    return {p.name: extract_file(p, register, tagger) for p in sorted(SEEDS.iterdir())}


@pytest.fixture(scope="session")
def hostile_store(tmp_path_factory):
    """A store with two fictional documents whose texts, file name and authority label carry markup."""
    from rdflib import Dataset, Graph

    from ofsted_kg import __version__
    from ofsted_kg.extract.store import Store

    path = tmp_path_factory.mktemp("hostile") / "kg"
    store = Store(path)
    register = Graph().parse(DATA / "hostile-register.ttl", format="turtle")
    store.ensure_reference(__version__, None)
    store.ensure_extra_register(register)
    ds = Dataset()
    ds.parse(DATA / "hostile-documents.trig", format="trig")
    docs = []
    for g in ds.graphs():
        if str(g.identifier).startswith("https://w3id.org/ofsted-kg/id/document/"):
            copy = Graph()
            copy += g
            docs.append((g.identifier, copy, []))
    assert len(docs) == 2
    store.store_documents(docs)
    store.flush()
    del store
    return path
