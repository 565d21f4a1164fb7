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


REQUIRED = "required"  # in a header's default column: the parameter must be given


@dataclass
class Param:
    name: str
    type: str
    default: str | None  # None: unbound, which matches anything
    description: str
    required: bool = False


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
            default = None if m.group(3) in ("-", REQUIRED) else m.group(3)
            params.append(Param(m.group(1), m.group(2), default, m.group(4).strip(), m.group(3) == REQUIRED))
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


_TOKEN = re.compile(r"""
    \#[^\n]*                                    # comment
  | <[^<>"{}|^`\\\s]*>                          # IRI
  | "{3}(?:[^"\\]|\\.|"(?!""))*"{3}             # long strings
  | '{3}(?:[^'\\]|\\.|'(?!''))*'{3}
  | "(?:[^"\\\n]|\\.)*"                         # strings
  | '(?:[^'\\\n]|\\.)*'
  | [?$]\w+                                     # variable
  | _:[\w.-]*                                   # blank node
  | (?:[A-Za-z][\w.-]*)?:[\w.:%\\-]*            # prefixed name
  | [A-Za-z_]\w*                                # keyword or other word
  | \S                                          # any other character
""", re.X)


def _groups(text: str) -> list[tuple[int, set[str]]]:
    """The WHERE patterns of the query, subqueries included: for each, the offset just after
    its opening '{' and the names of the variables used inside it.

    A query form (SELECT, ASK, DESCRIBE) takes the first '{' after it as its pattern (the
    WHERE keyword is optional there); a CONSTRUCT takes the '{' after its WHERE. Comments,
    strings, IRIs, variables and prefixed names are read as whole tokens, so a keyword
    inside them is never taken for one.
    """
    found: list[tuple[int, set[str]]] = []
    open_groups: list[tuple[int, set[str]] | None] = []  # one entry a '{' still open
    waiting = False  # a query form or WHERE was read and its '{' is next
    previous = ""
    for m in _TOKEN.finditer(text):
        tok = m.group()
        upper = tok.upper()
        if tok == "{":
            if waiting:
                group: tuple[int, set[str]] = (m.end(), set())
                found.append(group)
                open_groups.append(group)
                waiting = False
            else:
                open_groups.append(None)
        elif tok == "}":
            if open_groups:
                open_groups.pop()
        elif tok[0] in "?$" and len(tok) > 1:
            for group in open_groups:
                if group is not None:
                    group[1].add(tok[1:])
        elif upper in ("SELECT", "ASK", "DESCRIBE"):
            waiting = True
        elif upper == "WHERE":
            if previous == "CONSTRUCT":
                raise InputError("cannot bind parameters in a 'CONSTRUCT WHERE { ... }' query; "
                                 "write it as 'CONSTRUCT { ... } WHERE { ... }'")
            waiting = True
        elif upper == "CONSTRUCT":
            waiting = False
        if not tok.startswith("#"):
            previous = upper
    if not found:
        raise InputError("cannot find the WHERE clause of the query to bind its parameters")
    return found


def with_values(text: str, values: dict) -> str:
    """The query with a VALUES block binding `values` ({name: pyoxigraph term}) at the top of
    every WHERE pattern that uses them, the query's own and each subquery's.

    A subquery sees only the variables it names, so a parameter used inside one must be bound
    there too; a pattern that does not name a parameter is left as it is (binding it there
    would change no answer, only add a join). The terms are written by pyoxigraph in
    N-Triples syntax, so a value can only ever be a value: quotes, braces or SPARQL keywords
    inside it are escaped, never read as query text.
    """
    if not values:
        return text
    out, last = [], 0
    for at, used in _groups(text):
        names = [name for name in values if name in used]
        if not names:
            continue
        variables = " ".join(f"?{name}" for name in names)
        terms = " ".join(str(values[name]) for name in names)
        out += [text[last:at], f" VALUES ({variables}) {{ ({terms}) }} "]
        last = at
    return "".join(out) + text[last:]


def bindings(nq: NamedQuery, given: list[tuple[str, str]], register=None, scheme_ids=None) -> dict:
    """The RDF terms of the parameters `given` ([(name, value)]) and of the defaults of the rest."""
    subs = {}
    seen = set()
    for name, value in given:
        param = nq.param(name)
        if name in seen:
            raise InputError(f"parameter {name} of query {nq.name} is given more than once")
        subs[name] = to_term(param, value, register, scheme_ids)
        seen.add(name)
    for param in nq.params:
        if param.name in seen:
            continue
        if param.required:
            raise InputError(f"query {nq.name} needs the parameter {param.name} ({param.type}: {param.description}); "
                             f"give it with -p {param.name} VALUE")
        if param.default is not None:
            subs[param.name] = to_term(param, param.default, register, scheme_ids)
    return subs


def with_value_sets(text: str, values: dict) -> str:
    """The query with VALUES blocks binding each variable to any of a set of terms.

    `values` maps a variable name to a list of pyoxigraph terms; an empty list leaves the
    variable unbound (it matches anything). Like with_values, a block goes at the top of
    every WHERE pattern (subqueries included) that names the variable, and the terms are
    written by pyoxigraph, so a value can only ever be a value.
    """
    values = {name: terms for name, terms in values.items() if terms}
    if not values:
        return text
    out, last = [], 0
    for at, used in _groups(text):
        blocks = "".join(f" VALUES ?{name} {{ {' '.join(str(t) for t in terms)} }}"
                         for name, terms in values.items() if name in used)
        if blocks:
            out += [text[last:at], blocks + " "]
            last = at
    return "".join(out) + text[last:]