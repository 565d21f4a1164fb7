"""Named SPARQL queries: read their headers, bind parameters as RDF terms, run them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError
from .ns import AREA, GRADE, ID, KIND, POLARITY, THEME
from .resources import data_files

SCHEME_TYPES = {"theme": THEME, "kind": KIND, "polarity": POLARITY, "grade": GRADE, "area": AREA}
TYPES = ("integer", "string", "date", "iri", "authority", *SCHEME_TYPES)
_PARAM = re.compile(r"^#\s+(\w+)\s+(\w+)\s+(\S+)\s+(.*)$")


@dataclass
class Param:
    name: str
    type: str
    default: str | None  # None: unbound, which matches anything
    description: str


@dataclass
class NamedQuery:
    name: str
    text: str
    description: str
    params: list[Param] = field(default_factory=list)
    example: str = ""

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        valid = ", ".join(p.name for p in self.params) or "none"
        raise InputError(f"query {self.name} has no parameter '{name}' (its parameters: {valid})")


def parse_query(name: str, text: str) -> NamedQuery:
    """Read the header comment of a .rq file: description, Parameters: and Example: blocks."""
    desc: list[str] = []
    params: list[Param] = []
    example: list[str] = []
    block = "desc"
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        if body.lower().startswith("parameters:"):
            block = "params"
            continue
        if body.lower().startswith("example"):
            block = "example"
            continue
        if block == "desc" and body:
            desc.append(body)
        elif block == "params" and body:
            m = _PARAM.match(line)
            if not m or m.group(2) not in TYPES:
                raise InputError(f"{name}.rq: cannot read the parameter line '{body}' "
                                 f"(expected: name type default description; types: {', '.join(TYPES)})")
            default = None if m.group(3) == "-" else m.group(3)
            params.append(Param(m.group(1), m.group(2), default, m.group(4).strip()))
        elif block == "example" and body:
            example.append(body)
    return NamedQuery(name, text, " ".join(desc), params, "\n".join(example))


@lru_cache(maxsize=None)
def named_queries() -> dict[str, NamedQuery]:
    """Every packaged query, parsed and checked once."""
    out = {}
    for res in data_files("queries", ".rq"):
        name = res.name[:-3]
        nq = parse_query(name, res.read_text(encoding="utf-8"))
        try:
            ox.Store().query(nq.text)  # parse check against an empty store
        except SyntaxError as err:
            raise InputError(f"{res.name}: not valid SPARQL ({err})") from err
        out[name] = nq
    return out


def get_query(name_or_file: str) -> NamedQuery:
    """A named query, or a query read from a .rq file."""
    queries = named_queries()
    if name_or_file in queries:
        return queries[name_or_file]
    path = Path(name_or_file)
    if path.suffix == ".rq" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise InputError(f"{path}: cannot read the query ({err.strerror})") from err
        return parse_query(path.stem, text)
    raise InputError(f"no query named '{name_or_file}' (named queries: {', '.join(sorted(queries))}; "
                     "or give the path of a .rq file)")


def to_term(param: Param, value: str, register=None, scheme_ids: dict[str, set[str]] | None = None):
    """The RDF term for a parameter value; values are never pasted into the query text."""
    kind = param.type
    try:
        if kind == "integer":
            return ox.Literal(str(int(value)), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
        if kind == "date":
            return ox.Literal(date.fromisoformat(value).isoformat(), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))
    except ValueError:
        raise InputError(f"parameter {param.name}: '{value}' is not a valid {kind}") from None
    if kind == "string":
        return ox.Literal(value)
    if kind == "iri":
        if not re.match(r"^[a-z][a-z0-9+.-]*:[^\s<>\"{}|^`\\]*$", value, re.I):
            raise InputError(f"parameter {param.name}: '{value}' is not an IRI")
        return ox.NamedNode(value)
    if kind == "authority":
        if register is None:
            raise InputError(f"parameter {param.name}: no register to resolve authorities")
        from .register import AuthorityError

        if value in register:
            return ox.NamedNode(str(ID[f"authority/{value}"]))
        try:
            return ox.NamedNode(str(register.resolve(value).iri))
        except AuthorityError as err:
            raise InputError(f"parameter {param.name}: {err}") from None
    ns = SCHEME_TYPES[kind]
    if scheme_ids is not None and value not in scheme_ids.get(kind, set()):
        valid = ", ".join(sorted(scheme_ids.get(kind, ())))
        raise InputError(f"parameter {param.name}: '{value}' is not a {kind} id (valid: {valid})")
    return ox.NamedNode(str(ns[value]))


_TOKEN = re.compile(r"""#[^\n]*|<[^<>\s]*>|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\{|\}|[A-Za-z_]+|.""", re.S)


def _where_brace(text: str) -> int:
    """Offset just after the '{' that opens the query's top-level WHERE pattern."""
    depth = 0
    first_top_brace = None
    form = None
    for m in _TOKEN.finditer(text):
        tok = m.group()
        upper = tok.upper()
        if tok == "{":
            if depth == 0 and first_top_brace is None:
                first_top_brace = m.end()
            depth += 1
        elif tok == "}":
            depth -= 1
        elif depth == 0 and upper in ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE") and form is None:
            form = upper
        elif depth == 0 and upper == "WHERE":
            brace = text.index("{", m.end())
            return brace + 1
    if form != "CONSTRUCT" and first_top_brace is not None:
        return first_top_brace
    raise InputError("cannot find the WHERE clause of the query to bind its parameters")


def with_values(text: str, values: dict) -> str:
    """The query with a VALUES block binding `values` ({name: pyoxigraph term}) at the top of its WHERE.

    The terms are written by pyoxigraph in N-Triples syntax, so a value can only ever be a value:
    quotes, braces or SPARQL keywords inside it are escaped, never read as query text.
    """
    if not values:
        return text
    names = " ".join(f"?{name}" for name in values)
    terms = " ".join(str(term) for term in values.values())
    at = _where_brace(text)
    return f"{text[:at]} VALUES ({names}) {{ ({terms}) }}{text[at:]}"


def bindings(nq: NamedQuery, given: list[tuple[str, str]], register=None, scheme_ids=None) -> dict:
    subs = {}
    seen = set()
    for name, value in given:
        param = nq.param(name)
        subs[name] = to_term(param, value, register, scheme_ids)
        seen.add(name)
    for param in nq.params:
        if param.name not in seen and param.default is not None:
            subs[param.name] = to_term(param, param.default, register, scheme_ids)
    return subs


def with_value_sets(text: str, values: dict) -> str:
    """The query with VALUES blocks binding each variable to any of a set of terms.

    `values` maps a variable name to a list of pyoxigraph terms; an empty list leaves the
    variable unbound (it matches anything). The blocks go where with_values puts its block.
    As there, the terms are written by pyoxigraph, so a value can only ever be a value.
    """
    blocks = "".join(f" VALUES ?{name} {{ {' '.join(str(t) for t in terms)} }}" for name, terms in values.items() if terms)
    if not blocks:
        return text
    marker = ox.Literal("ofsted-kg value sets")
    placed = with_values(text, {"_value_sets": marker})
    return placed.replace(f" VALUES (?_value_sets) {{ ({marker}) }}", blocks)
