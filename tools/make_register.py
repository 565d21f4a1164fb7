"""Generate ontology/authorities.ttl, the authority register, from la_lookup.csv and tools/aliases.csv.

Usage: python tools/make_register.py [LA_LOOKUP_CSV] [-a ALIASES_CSV] [-o OUTPUT_TTL]

Defaults: ../shared/reference/la_lookup.csv (relative to the repo root), tools/aliases.csv,
ontology/authorities.ttl. The output is deterministic: authorities sorted by la_code, a fixed
predicate order, names sorted; no timestamps. Data problems are printed to stderr as warnings.

Sources chosen from la_lookup.csv (one row per authority, 156 rows; the file starts with a BOM):

- IRI and ofk:laCode: `la_code` (DfE three-digit code; unique, never empty).
- rdfs:label: `local_authority_ons_name`, except that "Kingston Upon Hull, City of" is written
  "Kingston upon Hull, City of" (" Upon " lower-cased, as ONS and `ltla23nm` spell it).
- ofk:gssCode: `la_code_new`. It is empty for the three abolished authorities (Cumbria 909,
  Northamptonshire 928, Poole 836); for those the code is taken from `ltla23cd`, which there
  holds the authority's own former code (E10000006, E10000021, E06000029). `lad23cd` is not
  used: it is empty for every county and for the new unitaries, and `ltla23cd`/`utla23nm` hold
  the *predecessor* county for Buckinghamshire, Dorset, North Yorkshire, Somerset, Cumberland
  and Westmorland and Furness (Cumberland and Westmorland and Furness are both "Cumbria" there).
- ofk:region: `region_name`. It is complete and consistent; `rgn22nm` differs only in case
  ("Yorkshire and The Humber" on four rows).
- ofk:regionCode: the ONS region code (E12...) of `region_name`, from the fixed table REGIONS
  below. Neither code column in the file can be trusted on its own: `region_code` (DfE letters)
  is "NotKnown" for Cumbria and empty for Medway, and `rgn22cd` contradicts `region_name` for
  Buckinghamshire (E12000004 = East Midlands, but South East) and Gloucestershire (E12000003 =
  Yorkshire and the Humber, but South West). Disagreements are reported as warnings.
- ofk:laType: from the prefix of the GSS code (E06 Unitary Authority, E08 Metropolitan
  District, E09 London Borough, E10 County). `ons_la_type` is empty for Northamptonshire and
  Poole and still says "County" for Cumberland, Westmorland and Furness and North Yorkshire,
  which have been unitary authorities (E06) since April 2023.
- ofk:ofstedUrn: `urn` (unique, never empty). `ofsted_ilacs_scrape_la_name` is not a name at all
  (it repeats `la_code`, or is empty), so no ofk:ofstedName is written.
- ofk:statisticalNeighbour: `stat_neighbours` (DfE codes; they agree with the GSS codes in
  `stat_neighbours_la_code`). Codes not in the register are skipped with a warning. The three
  abolished authorities have no neighbours. `stat_neighbours_previous` is not used.
- skos:altLabel, every other name a report may use:
  * `also_known_as`, a bracketed comma-separated list. It is ambiguous because a name can itself
    contain a comma: "[BCP, Bournemouth, Christchurch & Poole]" is two names, not three. Adjacent
    pieces are re-joined when together they spell the authority's own name ("Bournemouth,
    Christchurch & Poole"), so that "Bournemouth" alone does not become an alias of BCP.
  * `ltla23nm` and `utla23nm` where `ltla23cd` is the authority's own code ("Bedford",
    "County Durham", "Kingston upon Hull").
  * the ONS inverted names in natural order ("Bristol, City of" -> "City of Bristol").
  * generated patterns: "<name> Council" (all but names that already start with "City of" or are
    inverted), "<name> County Council" (counties), "London Borough of <name>" (London boroughs
    without a "Royal Borough of"/"City of" alias), and an "&" variant of names with " and ".
  * tools/aliases.csv (la_code,alias,note): the special cases, i.e. the councils' own styles
    (City/Borough/Metropolitan Borough Council, Royal Borough of ...), trusts and companies that
    run children's services, and former names. An alias held by several authorities ("Achieving
    for Children", "Northamptonshire Children's Trust") must say AMBIGUOUS in its note; the
    resolver never settles such a name on its own.
- Bournemouth (DfE 837) and the pre-2019 Dorset County Council (835) are not rows of the file.
  "Dorset County Council" is listed as an alias of Dorset (838); "Bournemouth" is left unmatched.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SKOS

ROOT = Path(__file__).resolve().parents[1]
OFK = Namespace("https://w3id.org/ofsted-kg/ont#")
ID = Namespace("https://w3id.org/ofsted-kg/id/")
AUTHORITY = Namespace("https://w3id.org/ofsted-kg/id/authority/")

# ONS codes of the nine English regions, by the names `region_name` uses.
REGIONS = {
    "North East": "E12000001",
    "North West": "E12000002",
    "Yorkshire and the Humber": "E12000003",
    "East Midlands": "E12000004",
    "West Midlands": "E12000005",
    "East of England": "E12000006",
    "London": "E12000007",
    "South East": "E12000008",
    "South West": "E12000009",
}
LA_TYPES = {
    "E06": "Unitary Authority",
    "E08": "Metropolitan District",
    "E09": "London Borough",
    "E10": "County",
}
PREFIXES = {
    "id": str(ID),
    "authority": str(AUTHORITY),
    "ofk": str(OFK),
    "rdfs": str(RDFS),
    "skos": str(SKOS),
}
INVERTED = re.compile(r"^(?P<core>.+?),\s*(?P<kind>City|County) of$")


def warn(message: str) -> None:
    print(f"make_register: warning: {message}", file=sys.stderr)


def key(name: str) -> str:
    """A crude normal form for clash checks (the resolver's own lives in extract/register.py)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = text.replace("&", " and ").replace("'", "").casefold()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def uninvert(name: str) -> str | None:
    m = INVERTED.match(name)
    return f"{m['kind']} of {m['core']}" if m else None


def split_also_known_as(cell: str, label: str) -> list[str]:
    inner = cell.strip().removeprefix("[").removesuffix("]")
    pieces = [p.strip() for p in inner.split(",") if p.strip()]
    own = {key(label), key(uninvert(label) or label)}
    names, i = [], 0
    while i < len(pieces):
        for j in range(len(pieces), i + 1, -1):  # longest re-join first
            if key(", ".join(pieces[i:j])) in own:
                names.append(", ".join(pieces[i:j]))
                i = j
                break
        else:
            names.append(pieces[i])
            i += 1
    return names


def read_aliases(path: Path) -> dict[str, list[tuple[str, str]]]:
    aliases: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            aliases[row["la_code"].strip()].append((row["alias"].strip(), row["note"].strip()))
    return aliases


def build(rows: list[dict], aliases: dict[str, list[tuple[str, str]]]) -> list[dict]:
    codes = {r["la_code"].strip() for r in rows}
    for code in sorted(set(aliases) - codes):
        warn(f"aliases.csv: la_code {code} is not in la_lookup.csv; its aliases are ignored")
    out = []
    for r in rows:
        code = r["la_code"].strip()
        label = r["local_authority_ons_name"].strip().replace(" Upon ", " upon ")
        gss = r["la_code_new"].strip()
        if not gss:
            gss = r["ltla23cd"].strip()
            warn(f"{code} {label}: la_code_new is empty; GSS code {gss} taken from ltla23cd")
        region = r["region_name"].strip()
        region_code = REGIONS[region]
        if r["rgn22cd"].strip() != region_code:
            warn(f"{code} {label}: rgn22cd {r['rgn22cd']} disagrees with region_name "
                 f"{region!r} ({region_code}); using {region_code}")
        if r["region_code"].strip() in ("", "NotKnown"):
            warn(f"{code} {label}: region_code is {r['region_code']!r}; not used")
        la_type = LA_TYPES[gss[:3]]
        if r["ons_la_type"].strip() != la_type:
            warn(f"{code} {label}: ons_la_type {r['ons_la_type']!r} disagrees with GSS code "
                 f"{gss}; using {la_type!r}")
        neighbours = []
        for n in (c.strip() for c in r["stat_neighbours"].split(",")):
            if not n:
                continue
            if n not in codes:
                warn(f"{code} {label}: statistical neighbour {n} is not in the register; skipped")
            elif n != code and n not in neighbours:
                neighbours.append(n)

        names: list[str] = []  # other names, most trusted sources first

        def add(name: str) -> None:
            name = " ".join(name.split())
            if name and name.casefold() != label.casefold() and \
                    name.casefold() not in {n.casefold() for n in names}:
                names.append(name)

        natural = uninvert(label)
        if natural:
            add(natural)
        if r["ltla23cd"].strip() == gss:
            add(r["ltla23nm"].strip())
            add(r["utla23nm"].strip())
        special = aliases.get(code, [])
        for alias, _note in special:
            add(alias)
        if r["also_known_as"].strip():
            for alias in split_also_known_as(r["also_known_as"], label):
                add(alias)
        if " and " in label:
            add(label.replace(" and ", " & "))
        if not natural and not label.startswith("City of"):
            add(f"{label} Council")
            if la_type == "County":
                add(f"{label} County Council")
            if la_type == "London Borough" and not any(
                    a.startswith(("Royal Borough of", "City of")) for a, _ in special):
                add(f"London Borough of {label}")
        out.append({
            "code": code, "label": label, "gss": gss, "region": region,
            "region_code": region_code, "la_type": la_type, "urn": r["urn"].strip(),
            "neighbours": sorted(neighbours), "names": sorted(names, key=lambda n: (n.casefold(), n)),
            "notes": {key(a): note for a, note in special},
        })
    check_clashes(out)
    return sorted(out, key=lambda a: a["code"])


def check_clashes(authorities: list[dict]) -> None:
    """Names shared by several authorities must be flagged AMBIGUOUS in aliases.csv."""
    holders: dict[str, set[str]] = defaultdict(set)
    for a in authorities:
        for name in [a["label"], *a["names"]]:
            holders[key(name)].add(a["code"])
    for k, codes in sorted(holders.items()):
        if len(codes) < 2:
            continue
        flagged = all("AMBIGUOUS" in a["notes"].get(k, "") for a in authorities if a["code"] in codes)
        if not flagged:
            raise SystemExit(f"make_register: {k!r} names several authorities ({', '.join(sorted(codes))}) "
                             "but is not marked AMBIGUOUS in aliases.csv")
        print(f"make_register: note: ambiguous name {k!r}: {', '.join(sorted(codes))}", file=sys.stderr)


def turtle(authorities: list[dict]) -> str:
    def lit(value: str, lang: str | None = None) -> str:
        return Literal(value, lang=lang).n3()

    def ref(code: str) -> str:
        return f"authority:{code}"

    lines = [
        "# The authority register. Generated by tools/make_register.py from",
        "# ../shared/reference/la_lookup.csv and tools/aliases.csv: do not edit by hand.",
        "",
        *(f"@prefix {p}: <{iri}> ." for p, iri in sorted(PREFIXES.items())),
        "",
    ]
    for a in authorities:
        po = [
            ("a", "ofk:Authority"),
            ("rdfs:label", lit(a["label"], "en")),
            ("ofk:laCode", lit(a["code"])),
            ("ofk:gssCode", lit(a["gss"])),
            ("ofk:region", lit(a["region"])),
            ("ofk:regionCode", lit(a["region_code"])),
            ("ofk:laType", lit(a["la_type"])),
            ("ofk:ofstedUrn", lit(a["urn"])),
            *(("ofk:statisticalNeighbour", ref(n)) for n in a["neighbours"]),
            *(("skos:altLabel", lit(n, "en")) for n in a["names"]),
        ]
        lines.append(ref(a["code"]))
        lines.extend(f"    {p} {o} {';' if i < len(po) - 1 else '.'}" for i, (p, o) in enumerate(po))
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("la_lookup", nargs="?", type=Path,
                        default=ROOT.parent / "shared" / "reference" / "la_lookup.csv")
    parser.add_argument("-a", "--aliases", type=Path, default=ROOT / "tools" / "aliases.csv")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "ontology" / "authorities.ttl")
    args = parser.parse_args(argv)
    with args.la_lookup.open(encoding="utf-8-sig", newline="") as f:  # the file starts with a BOM
        rows = list(csv.DictReader(f))
    codes = [r["la_code"].strip() for r in rows]
    if len(set(codes)) != len(codes):
        raise SystemExit("make_register: la_code is not unique in the lookup")
    authorities = build(rows, read_aliases(args.aliases))
    text = turtle(authorities)
    # Parse what we wrote before replacing the file, so a broken register never lands.
    g = Graph().parse(data=text, format="turtle")
    assert len(set(g.subjects(RDF.type, OFK.Authority))) == len(authorities)
    assert all(URIRef(AUTHORITY[a["code"]]) == ID[f"authority/{a['code']}"] for a in authorities)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"make_register: wrote {len(authorities)} authorities, {len(g)} triples to {args.output}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
