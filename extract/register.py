"""The authority register: look up local authorities by the names reports give them."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SKOS

from .ns import OFK
from .resources import data_file, parse_turtle

log = logging.getLogger(__name__)

AUTHORITY = Namespace("https://w3id.org/ofsted-kg/id/authority/")


class AuthorityError(ValueError):
    """A name that matches no authority of the register, or several."""

    def __init__(self, text: str, candidates: Iterable[Authority] = ()):
        self.text = text
        self.candidates = tuple(sorted(candidates, key=lambda a: a.la_code))
        if self.candidates:
            listed = ", ".join(f"{a.name} ({a.la_code})" for a in self.candidates)
            message = f"{text!r} matches several authorities: {listed}"
        else:
            message = f"no authority in the register matches {text!r}"
        super().__init__(message)


@dataclass(frozen=True)
class Authority:
    la_code: str
    name: str
    gss_code: str | None
    region: str | None
    names: tuple[str, ...]  # every name: the label first, then the other names, sorted
    neighbours: tuple[str, ...]  # la_codes of the statistical neighbours, sorted
    fictional: bool = False

    @property
    def iri(self) -> URIRef:
        return AUTHORITY[self.la_code]


# --- normalisation ----------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:['\u2019\u2018`][^\W_]+)*|&")
_INVERTED = re.compile(r"^\s*(?P<core>.+?),\s*(?P<kind>city|county)\s+of\s*$", re.IGNORECASE)
# Words that may be lower case inside a name ("Kingston upon Thames", "Stockton-on-Tees").
_LINK_WORDS = frozenset({"and", "of", "upon", "on", "with", "the", "under", "in", "for", "le"})

# Designations a report may put around an authority's name. Resolution strips them one at a
# time, so combinations ("Metropolitan Borough of X Council", "X District Metropolitan
# Council") are reached in a few steps.
_PREFIXES = tuple(tuple(p.split()) for p in (
    "the", "london borough of", "royal borough of", "metropolitan borough of", "borough of",
    "city of", "county of", "city and county of", "council of the", "council of",
))
_SUFFIXES = tuple(tuple(s.split()) for s in (
    "council", "county", "city", "borough", "metropolitan", "district", "corporation",
    "unitary authority", "local authority", "childrens services", "childrens social care",
    "local safeguarding children board", "safeguarding children board",
    "safeguarding children partnership",
))


def _fold(word: str) -> str:
    word = unicodedata.normalize("NFKD", word)
    word = "".join(c for c in word if not unicodedata.combining(c))
    if word == "&":
        return "and"
    return re.sub(r"['\u2019\u2018`]", "", word).casefold()


def _words(text: str) -> list[re.Match]:
    """The words of `text`; "&" is a word too ("and")."""
    return list(_WORD.finditer(text))


def normalise(name: str) -> tuple[str, ...]:
    """The words of a name, folded: case, accents, apostrophes, "&", punctuation, hyphens.

    ONS inverted names are put in natural order first: "Bristol, City of" -> "city of bristol".
    """
    m = _INVERTED.match(name)
    if m:
        name = f"{m['kind']} of {m['core']}"
    return tuple(_fold(w.group()) for w in _words(name))


def _hyphenated(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is glued by a hyphen to a longer word ("Newcastle-under-Lyme")."""
    hyphens = ("-", "\u2010", "\u2011")
    after = text[end:end + 2]
    before = text[max(start - 2, 0):start]
    return (len(after) == 2 and after[0] in hyphens and after[1].isalnum()) or \
        (len(before) == 2 and before[1] in hyphens and before[0].isalnum())


def _strip_once(words: tuple[str, ...]) -> set[tuple[str, ...]]:
    out = set()
    for p in _PREFIXES:
        if len(words) > len(p) and words[: len(p)] == p:
            out.add(words[len(p):])
    for s in _SUFFIXES:
        if len(words) > len(s) and words[-len(s):] == s:
            out.add(words[: -len(s)])
    return out


# --- the register -------------------------------------------------------------------------

class Register:
    """Authorities by la_code, with an index of every name they go by."""

    def __init__(self, authorities: Iterable[Authority], urns: dict[str, str] | None = None):
        self._by_code: dict[str, Authority] = {}
        for a in authorities:
            if a.la_code in self._by_code:
                raise ValueError(f"la_code {a.la_code} is used by two authorities")
            self._by_code[a.la_code] = a
        self._by_urn = {urn: self._by_code[code] for urn, code in (urns or {}).items()}
        self._index: dict[tuple[str, ...], set[str]] = {}
        for a in self._by_code.values():
            for name in a.names:
                words = normalise(name)
                if words:
                    self._index.setdefault(words, set()).add(a.la_code)
        self._longest = max((len(k) for k in self._index), default=0)

    @classmethod
    def from_graph(cls, g: Graph) -> Register:
        """Every ofk:Authority of `g`, as authorities.ttl and the sample register describe them."""

        def code_of(node) -> str:
            code = g.value(node, OFK.laCode)
            if code is not None:
                return str(code)
            if isinstance(node, URIRef) and str(node).startswith(str(AUTHORITY)):
                return str(node)[len(str(AUTHORITY)):]
            raise ValueError(f"{node} has no ofk:laCode")

        def text(node, prop) -> str | None:
            value = g.value(node, prop)
            return None if value is None else str(value)

        authorities, urns = [], {}
        for node in sorted(set(g.subjects(RDF.type, OFK.Authority))):
            code = code_of(node)
            labels = sorted(g.objects(node, RDFS.label), key=lambda l: (l.language != "en", str(l)))
            name = str(labels[0]) if labels else code
            others = {str(l) for l in labels[1:]} | {str(l) for l in g.objects(node, SKOS.altLabel)}
            others.discard(name)
            fictional = g.value(node, OFK.fictional)
            authorities.append(Authority(
                la_code=code,
                name=name,
                gss_code=text(node, OFK.gssCode),
                region=text(node, OFK.region),
                names=(name, *sorted(others, key=lambda n: (n.casefold(), n))),
                neighbours=tuple(sorted(code_of(n) for n in g.objects(node, OFK.statisticalNeighbour))),
                fictional=isinstance(fictional, Literal) and fictional.toPython() is True,
            ))
            urn = text(node, OFK.ofstedUrn)
            if urn:
                urns[urn] = code
        return cls(authorities, urns)

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Authority]:
        return iter(sorted(self._by_code.values(), key=lambda a: a.la_code))

    def __contains__(self, la_code: object) -> bool:
        return la_code in self._by_code

    def __getitem__(self, la_code: str) -> Authority:
        return self._by_code[la_code]

    def by_urn(self, urn: str) -> Authority | None:
        """The authority with this Ofsted URN, if any."""
        return self._by_urn.get(str(urn).strip())

    def resolve(self, text: str) -> Authority:
        """The one authority a name stands for ("Reading Borough Council" -> Reading).

        The whole name must match one of an authority's names once both are normalised; if it
        does not, designations ("London Borough of", "Royal Borough of", "City of", "Council",
        "County Council", "Metropolitan Borough Council", ...) are stripped one at a time and
        the shortest strip that matches decides. Raises AuthorityError if nothing matches or if
        the name belongs to several authorities (e.g. "Achieving for Children").
        """
        words = normalise(text)
        frontier, seen = {words} if words else set(), set()
        while frontier:
            codes = set().union(*(self._index.get(w, ()) for w in frontier))
            if len(codes) == 1:
                found = self._by_code[codes.pop()]
                log.debug("%r resolved to %s (%s)", text, found.name, found.la_code)
                return found
            if codes:
                raise AuthorityError(text, (self._by_code[c] for c in codes))
            seen |= frontier
            frontier = set().union(*(_strip_once(w) for w in frontier)) - seen
        raise AuthorityError(text)

    def find_in(self, text: str) -> list[Authority]:
        """Authorities named in a longer text, in order of first mention.

        A name counts where it occurs as whole words with its significant words capitalised
        (so "reading" in running text does not count, but "READING BOROUGH COUNCIL" does), and
        not as part of a hyphenated word ("Newcastle-under-Lyme" is not Newcastle). Where
        names overlap the longest wins: "South Gloucestershire" does not also give
        Gloucestershire. A name shared by several authorities ("Achieving for Children") takes
        its words but yields no authority.
        """
        words = _words(text)
        folded = [_fold(w.group()) for w in words]
        spans = []  # (length, start, codes)
        for i in range(len(words)):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                codes = self._index.get(tuple(folded[i:i + n]))
                if codes and all(f in _LINK_WORDS or w.group()[0].isupper() or w.group()[0].isdigit()
                                 for f, w in zip(folded[i:i + n], words[i:i + n])) \
                        and not _hyphenated(text, words[i].start(), words[i + n - 1].end()):
                    spans.append((n, i, codes))
                    break  # the longest name starting here
        taken: list[tuple[int, int, set[str]]] = []
        for n, i, codes in sorted(spans, key=lambda s: (-s[0], s[1])):
            if all(i + n <= j or j + m <= i for m, j, _ in taken):
                taken.append((n, i, codes))
        found: list[Authority] = []
        for _n, _i, codes in sorted(taken, key=lambda s: s[1]):
            if len(codes) == 1:
                a = self._by_code[next(iter(codes))]
                if a not in found:
                    found.append(a)
        return found


# --- loading ------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _parsed_register() -> Graph:
    return parse_turtle(data_file("ontology", "authorities.ttl"), Graph())


def register_graph() -> Graph:
    """ontology/authorities.ttl, parsed (a fresh copy the caller may change)."""
    g = Graph()
    g.namespace_manager.bind("ofk", OFK)
    g.namespace_manager.bind("authority", AUTHORITY)
    g.namespace_manager.bind("skos", SKOS)
    g += _parsed_register()
    return g


@lru_cache(maxsize=None)
def _default_register() -> Register:
    return Register.from_graph(_parsed_register())


def load_register(extra_graphs: Iterable[Graph] = ()) -> Register:
    """The register of authorities.ttl, plus the authorities of `extra_graphs` if given."""
    extra_graphs = tuple(extra_graphs)
    if not extra_graphs:
        return _default_register()
    g = register_graph()
    for extra in extra_graphs:
        g += extra
    return Register.from_graph(g)
