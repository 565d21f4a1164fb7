"""SPARQL results and graphs written in a format chosen by content negotiation (for ofsted-kg serve)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from .export import PREFIXES

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"
# Not id:, whose local names hold slashes that Turtle would have to escape (id:document\/...).
_PREFIXES = {name: iri for name, iri in PREFIXES.items() if name != "id"}


@dataclass(frozen=True)
class Format:
    """One answer format: its `format=` names, the media type it is sent as, and others it answers to."""

    name: str
    media_type: str
    names: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    charset: bool = False  # text types say charset=utf-8

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


# In order of preference: the first is the answer to Accept: */* or no Accept at all.
SOLUTION_FORMATS = (
    Format("json", "application/sparql-results+json", ("json",), ("application/json",)),
    Format("xml", "application/sparql-results+xml", ("xml",), ("application/xml", "text/xml")),
    Format("csv", "text/csv", ("csv",), (), charset=True),
    Format("tsv", "text/tab-separated-values", ("tsv",), (), charset=True),
)
GRAPH_FORMATS = (
    Format("turtle", "text/turtle", ("turtle", "ttl"), ("application/turtle", "application/x-turtle"), charset=True),
    Format("nt", "application/n-triples", ("nt", "ntriples", "n-triples"), ("text/plain",)),
    Format("json-ld", "application/ld+json", ("json-ld", "jsonld", "json"), ("application/x-json+ld", "application/json")),
    Format("rdf-xml", "application/rdf+xml", ("rdf-xml", "rdfxml", "rdf+xml", "xml"), ("application/xml", "text/xml")),
    Format("n3", "text/n3", ("n3",), ("text/rdf+n3", "application/n3"), charset=True),
)
_RDF_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "json-ld": ox.RdfFormat.JSON_LD,
                "rdf-xml": ox.RdfFormat.RDF_XML, "n3": ox.RdfFormat.N3}
_BOOLEAN_FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                    "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}


class NotAcceptable(ValueError):
    """No format that the client accepts can carry this kind of answer."""


def formats_for(form: str) -> tuple[Format, ...]:
    """The formats of a query form: SELECT and ASK give results, CONSTRUCT and DESCRIBE give graphs."""
    return SOLUTION_FORMATS if form in ("SELECT", "ASK") else GRAPH_FORMATS


def format_named(name: str, form: str) -> Format:
    for fmt in formats_for(form):
        if fmt.name == name:
            return fmt
    raise KeyError(name)


def media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((media, q))
    return ranges


def quality(media: str, ranges: list[tuple[str, float]]) -> float:
    # the most specific range that matches decides (RFC 9110, 12.5.1)
    best, specificity = 0.0, -1
    kind = media.split("/")[0]
    for rng, q in ranges:
        if rng == media:
            rank = 2
        elif rng == f"{kind}/*":
            rank = 1
        elif rng == "*/*":
            rank = 0
        else:
            continue
        if rank > specificity:
            best, specificity = q, rank
    return best


def negotiate(form: str, accept: str | None, requested: list[str] = ()) -> Format:
    """The format to answer a query of `form` in.

    `requested` are `format=` values (a name such as csv or a media type); the first one
    that fits the form wins and the Accept header is then ignored. Otherwise the Accept
    header decides, with the server's order breaking ties; raises NotAcceptable.
    """
    offers = formats_for(form)
    if requested:
        for value in requested:
            value = value.split(";")[0].strip().lower()
            for fmt in offers:
                if value in fmt.names or value == fmt.media_type or value in fmt.aliases:
                    return fmt
        raise NotAcceptable(f"format={requested[0]} cannot carry the answer to a {form} query "
                            f"(formats: {', '.join(f.name for f in offers)})")
    if not accept or not accept.strip():
        return offers[0]
    ranges = media_ranges(accept)
    best, best_q = None, 0.0
    for fmt in offers:
        q = max(quality(m, ranges) for m in (fmt.media_type, *fmt.aliases))
        if q > best_q:
            best, best_q = fmt, q
    if best is None:
        raise NotAcceptable(f"none of the accepted types ({accept}) can carry the answer to a {form} query "
                            f"(media types: {', '.join(f.media_type for f in offers)}; or add format="
                            f"{'|'.join(f.names[0] for f in offers)})")
    return best


# ------------------------------------------------------------------ SELECT results

def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                            "predicate": _json_term(term.predicate),
                                            "object": _json_term(term.object)}}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != _XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
                f"</predicate><object>{_xml_term(term.object)}</object></triple>")
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value != _XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def _csv_cell(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def write_solutions(variables: list[str], rows: list[list], fmt: str) -> bytes:
    """SELECT results (rows of pyoxigraph terms, None when unbound) in SPARQL JSON, XML, CSV or TSV."""
    if fmt == "json":
        bindings = [{v: _json_term(t) for v, t in zip(variables, row) if t is not None} for row in rows]
        return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if fmt == "xml":
        parts = [f'<?xml version="1.0"?>\n<sparql xmlns="{_RESULTS_NS}"><head>']
        parts += [f"<variable name={quoteattr(v)}/>" for v in variables]
        parts.append("</head><results>")
        for row in rows:
            parts.append("<result>")
            parts += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                      for v, t in zip(variables, row) if t is not None]
            parts.append("</result>")
        parts.append("</results></sparql>\n")
        return "".join(parts).encode("utf-8")
    if fmt == "csv":  # RFC 4180 lines (CRLF), plain values
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(variables)
        writer.writerows([_csv_cell(t) for t in row] for row in rows)
        return buf.getvalue().encode("utf-8")
    if fmt == "tsv":  # terms in N-Triples syntax, so tabs and newlines inside literals are escaped
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines += ["\t".join("" if t is None else str(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise KeyError(fmt)


def write_boolean(answer: ox.QueryBoolean, fmt: str) -> bytes:
    """An ASK answer, written by pyoxigraph."""
    return answer.serialize(format=_BOOLEAN_FORMATS[fmt])


def write_triples(triples: list, fmt: str) -> bytes:
    """CONSTRUCT or DESCRIBE triples in Turtle, N-Triples, JSON-LD, RDF/XML or N3, written by pyoxigraph."""
    rdf_format = _RDF_FORMATS[fmt]
    if fmt in ("turtle", "n3", "rdf-xml"):
        return ox.serialize(triples, format=rdf_format, prefixes=_PREFIXES)
    return ox.serialize(triples, format=rdf_format)
