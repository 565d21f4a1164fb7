"""Package data access: the only module that opens .ttl, .rq and sample files."""

from functools import lru_cache
from importlib.resources import as_file, files

from rdflib import Graph

from .errors import InputError


def data_files(folder: str, suffix: str):
    """The package data files in `folder` whose names end with `suffix`, sorted by name."""
    return sorted(
        (p for p in files("ofsted_kg").joinpath(folder).iterdir() if p.name.endswith(suffix)),
        key=lambda p: p.name,
    )


def data_file(folder: str, name: str):
    return files("ofsted_kg").joinpath(folder).joinpath(name)


def parse_turtle(res, graph: Graph) -> Graph:
    with as_file(res) as path:
        try:
            graph.parse(path, format="turtle")
        except SyntaxError as err:  # rdflib's BadSyntax derives from SyntaxError
            raise InputError(f"{res.name}: {err}") from err
    return graph


def read_text(folder: str, name: str) -> str:
    return data_file(folder, name).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def ontology_graph() -> Graph:
    """Ontology, concept schemes and the authority register, parsed once, with the theme pairs
    made from the theme scheme (ofk:ThemePair)."""
    from .graph import theme_pairs

    g = Graph()
    for res in data_files("ontology", ".ttl"):
        parse_turtle(res, g)
    g += theme_pairs(g)
    return g


@lru_cache(maxsize=None)
def shapes_graph() -> Graph:
    g = Graph()
    for res in data_files("shapes", ".ttl"):
        parse_turtle(res, g)
    return g
