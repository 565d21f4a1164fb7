"""The ofsted-kg command line: click commands that parse options, call the pipeline and format results."""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from contextlib import ExitStack
from importlib.resources import as_file
from pathlib import Path

import click

from . import __version__
from .extract.errors import InputError
from .extract.store import DEFAULT_STORE, STORE_ENV, Store, default_store_path

CONTEXT = {"help_option_names": ["-h", "--help"]}
DEMO_STORE = "ofsted-kg-demo-store"


def store_option(f):
    return click.option(
        "-S", "--store", "store_path", type=click.Path(file_okay=False, path_type=Path), default=None,
        help=f"Folder of the embedded store [default: ${STORE_ENV} or ./{DEFAULT_STORE}].",
    )(f)


def silent_option(f):
    return click.option("-s", "--silent", is_flag=True, help="No progress bar.")(f)


def _store(path: Path | None, read_only: bool = False) -> Store:
    return Store(path or default_store_path(), read_only=read_only)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version")
@click.option("-v", "--verbose", count=True, help="More log messages on stderr (-vv for debug).")
def cli(verbose: int):
    """Turn Ofsted reports on English children's services into an RDF knowledge graph.

    \b
    Quick start:
      ofsted-kg demo                         # the bundled fictional sample, end to end
      ofsted-kg ingest reports/              # your own reports (.pdf, .txt, .md)
      ofsted-kg query recurring-themes       # a named query; 'ofsted-kg queries' lists them
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


# ------------------------------------------------------------------ ingest

def _print_summary(summary) -> None:
    stored, unchanged, failed = summary.count("stored"), summary.count("unchanged"), len(summary.failed)
    click.echo(f"{stored} stored, {unchanged} unchanged (already in the store), {failed} failed", err=True)
    for kind, n in sorted(summary.by_kind().items()):
        click.echo(f"  {kind}: {n}", err=True)
    outs = [o for o in summary.outcomes if o.status == "stored"]
    if outs:
        click.echo(f"  findings: {sum(o.findings for o in outs)}, recommendations: "
                   f"{sum(o.recommendations for o in outs)}, themes per document: "
                   f"{sum(o.themes for o in outs) / len(outs):.1f} on average", err=True)


def run_ingest(paths, store: Store, silent: bool, extra_register=None, force=False, jobs=1) -> int:
    from .extract.ingest import Ingester, expand_paths

    files = expand_paths(paths)
    if not files:
        raise InputError("no .pdf, .txt or .md files in " + ", ".join(str(p) for p in paths))
    store.ensure_reference(__version__, None)
    if extra_register is not None:
        store.ensure_extra_register(extra_register)
    ingester = Ingester(store, __version__, extra_register=extra_register, force=force, jobs=jobs)
    failures = []

    def report(outcome):
        if outcome.status == "failed":
            failures.append(outcome)

    if silent:
        summary = ingester.ingest(files, report)
    else:
        with click.progressbar(length=len(files), label="Ingesting", file=sys.stderr,
                               item_show_func=lambda o: o.path.name if o else "") as bar:
            def step(outcome):
                report(outcome)
                bar.update(1, outcome)
            summary = ingester.ingest(files, step)
    for outcome in failures:
        click.echo(f"Error: {outcome.path}: {outcome.reason}", err=True)
        for message in outcome.violations[:20]:
            click.echo(f"    {message}", err=True)
        if len(outcome.violations) > 20:
            click.echo(f"    ... and {len(outcome.violations) - 20} more", err=True)
    _print_summary(summary)
    return 1 if summary.failed else 0


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@silent_option
@click.option("-f", "--force", is_flag=True, help="Extract again even files already stored by this version.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes for extraction and validation [default: the number of cores].")
@click.pass_context
def ingest(ctx, paths, store_path, silent, force, jobs):
    """Read reports (files or folders of .pdf, .txt, .md) into the store.

    \f
    Each document is validated against the SHACL shapes and stored as its own named
    graph in one transaction; a file that fails is reported and the batch goes on.
    """
    import os

    ctx.exit(run_ingest(list(paths), _store(store_path), silent, force=force, jobs=jobs or os.cpu_count() or 1))


@cli.command()
@store_option
@silent_option
@click.pass_context
def demo(ctx, store_path, silent):
    """Ingest the bundled fictional sample and show the themes that recur.

    The sample is invented (three fictional authorities); it goes into
    ./ofsted-kg-demo-store unless --store is given.
    """
    from rdflib import Graph

    from .extract.resources import data_file, data_files, parse_turtle

    store = _store(store_path or Path(DEMO_STORE))
    extra = parse_turtle(data_file("sample", "authorities.ttl"), Graph())
    with ExitStack() as stack:
        files = [stack.enter_context(as_file(res)) for res in data_files("sample", ".txt")]
        status = run_ingest(files, store, silent, extra_register=extra)
    click.echo(f"Store: {store.path}", err=True)
    click.echo("Themes found in at least two of the sample's authorities:", err=True)
    _run_query(store, "recurring-themes", [], "table", None)
    ctx.exit(status)


# ------------------------------------------------------------------ validate

@cli.command()
@store_option
@click.option("-e", "--engine", type=click.Choice(["fast", "pyshacl"]), default="fast", show_default=True,
              help="fast: core constraints checked in Python, SPARQL constraints in pyoxigraph; pyshacl: the reference engine, slower.")
@click.pass_context
def validate(ctx, store_path, engine):
    """Check every stored document's graph against the SHACL shapes (exit 1 on violations)."""
    from .extract.validate import validate_document, validate_graph

    store = _store(store_path, read_only=True)
    extra = store.extra_register()
    bad = 0
    graphs = store.document_graphs()
    for g in graphs:
        if engine == "fast":  # straight from the store's quads, no rdflib graph on the way
            violations = validate_document(store.document_graph(g), extra)
        else:
            violations = validate_graph(store.graph(g), extra, engine=engine)
        if violations:
            bad += 1
            click.echo(f"{g}: {len(violations)} violations", err=True)
            for v in violations:
                click.echo(f"    {v}", err=True)
    click.echo(f"{len(graphs)} documents checked, {bad} with violations", err=True)
    ctx.exit(1 if bad else 0)


# ------------------------------------------------------------------ queries

FORMATS = ["table", "csv", "tsv", "json", "markdown"]


def _cell(term) -> str:
    """A term as plain text (CSV, the table, Markdown): an IRI or a literal's lexical form, _:label for a blank node."""
    import pyoxigraph as ox

    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def _json_term(term) -> dict:
    """A term as the SPARQL 1.1 Query Results JSON Format writes it."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        out["datatype"] = term.datatype.value
    return out


def format_rows(variables: list[str], rows: list[list], fmt: str) -> str:
    """Rows of terms (None where unbound) in one of FORMATS:

    json      the SPARQL 1.1 Query Results JSON Format: typed literals, language tags, blank nodes
    csv       the SPARQL 1.1 CSV results format: plain values, RFC 4180 quoting, CRLF line ends
    tsv       the SPARQL 1.1 TSV results format: ?variables, terms in N-Triples/Turtle syntax, LF line ends
    markdown  a GitHub table; table: aligned columns, long cells cut, and a count of rows
    """
    if fmt == "json":
        bindings = [{var: _json_term(term) for var, term in zip(variables, row) if term is not None} for row in rows]
        return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}}, indent=2, ensure_ascii=False) + "\n"
    if fmt == "tsv":
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines += ["\t".join("" if term is None else str(term) for term in row) for row in rows]
        return "\n".join(lines) + "\n"
    cells = [[_cell(t) for t in row] for row in rows]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(variables)
        writer.writerows(cells)
        return buf.getvalue()
    if fmt == "markdown":
        esc = [[c.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ") for c in row] for row in cells]
        lines = ["| " + " | ".join(variables) + " |", "|" + "---|" * len(variables)]
        lines += ["| " + " | ".join(row) + " |" for row in esc]
        return "\n".join(lines) + "\n"
    width = 60
    shown = [[c.replace("\n", " ") if len(c) <= width else c[: width - 1].replace("\n", " ") + "…" for c in row] for row in cells]
    widths = [max([len(v)] + [len(r[i]) for r in shown]) for i, v in enumerate(variables)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(variables, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in shown]
    lines.append(f"({len(rows)} rows)")
    return "\n".join(lines) + "\n"


def _run_query(store: Store, name: str, params, fmt: str, limit: int | None, out=None) -> int:
    from .extract.queries import bindings, get_query
    from .extract.register import load_register

    nq = get_query(name)
    subs = bindings(nq, list(params), load_register(store.extra_registers()), store.scheme_ids())
    try:
        result = store.query(nq.text, subs)
    except SyntaxError as err:
        raise InputError(f"{name}: not valid SPARQL ({err})") from err
    variables = [v.value for v in result.variables]
    rows = []
    for solution in result:
        rows.append([solution[v] for v in variables])
        if limit is not None and len(rows) >= limit:
            break
    text = format_rows(variables, rows, fmt)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    return len(rows)


@cli.command()
@click.argument("name")
@click.option("-p", "--param", "params", nargs=2, multiple=True, metavar="NAME VALUE",
              help="A query parameter, bound as an RDF term (repeatable).")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("-l", "--limit", type=click.IntRange(min=1), default=None, help="Show at most this many rows.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to FILE.")
@store_option
def query(name, params, fmt, limit, output, store_path):
    """Run a named query (see 'ofsted-kg queries') or a SPARQL file NAME.rq.

    \b
    Formats: table (aligned, long cells cut), csv and tsv (the SPARQL 1.1
    CSV/TSV results formats; TSV keeps each term's type in Turtle syntax),
    json (SPARQL 1.1 results JSON), markdown.
    Example: ofsted-kg query theme-cooccurrence -p polarity weakness -f csv
    """
    _run_query(_store(store_path, read_only=True), name, params, fmt, limit, output)


@cli.command()
def queries():
    """List the named queries with their parameters."""
    from .extract.queries import named_queries

    for name, nq in sorted(named_queries().items()):
        click.echo(f"{name}\n    {nq.description}")
        for p in nq.params:
            default = " (required)" if p.required else f" [default: {p.default}]" if p.default is not None else ""
            click.echo(f"    -p {p.name} <{p.type}>  {p.description}{default}")
        if nq.example:
            click.echo(f"    example: {nq.example}")
        click.echo()


# ------------------------------------------------------------------ export and stats

@cli.command()
@click.option("-f", "--format", "fmt", type=click.Choice(["turtle", "trig", "json-ld", "nt"]), default="turtle", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to FILE instead of stdout.")
@click.option("--no-reference", is_flag=True, help="Leave out the ontology, schemes and register.")
@store_option
def export(fmt, output, no_reference, store_path):
    """Export the graph: Turtle or N-Triples (all graphs merged), TriG or JSON-LD (one graph per document)."""
    from .extract.export import export_store

    data = export_store(_store(store_path, read_only=True), fmt, reference=not no_reference)
    if output:
        output.write_bytes(data)
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.buffer.write(data)


# ------------------------------------------------------------------ evaluation

def _metric(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


@cli.command("eval")
@click.argument("labels", type=click.Path(dir_okay=False, path_type=Path), default=Path("tests/data/theme_labels.json"))
@click.option("--shared", type=click.Path(file_okay=False, path_type=Path), default=Path("../shared"), show_default=True,
              help="The folder the labels' files are relative to (the corpus and seeds).")
@click.option("--split", type=click.Choice(["test", "tune", "all"]), default="test", show_default=True,
              help="Which part of the labelled set to score.")
@click.option("--metrics-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write every figure as JSON to FILE.")
@click.option("--per-theme/--no-per-theme", default=True, show_default=True, help="Print precision, recall, F1 and support per theme.")
@silent_option
def eval_(labels, shared, split, metrics_file, per_theme, silent):
    """Score the theme tagger and polarity on a labelled set (default: the project's, test split).

    Prints, Annif-style (`metric:<tab>value`), micro and macro precision, recall and F1
    over themes, per-theme figures with support, polarity accuracy and its confusion
    matrix, for the baseline (each theme's prefLabel alone) and for ofsted-kg's tagger.
    """
    import json

    from .extract.evaluate import POLARITIES, evaluate
    from .extract.labels import load_labels

    chosen = [lab for lab in load_labels(labels) if split == "all" or lab.split == split]
    if not chosen:
        raise click.UsageError(f"{labels}: no labels in the {split} split")
    progress = None if silent or not sys.stderr.isatty() else (lambda msg: click.echo(f"\r\033[K{msg[:100]}", nl=False, err=True))
    scores, missing = evaluate(chosen, shared, progress=progress)
    if progress:
        click.echo("\r\033[K", nl=False, err=True)
    for line in missing:
        click.echo(f"Error: {line}", err=True)
    report = {"labels": str(labels), "split": split, "passages labelled": len(chosen), "not found": len(missing),
              "systems": {}}
    for name, sc in scores.items():
        metrics = sc.metrics()
        click.echo(f"# system: {name}")
        for key, value in metrics.items():
            click.echo(f"{key}:\t{_metric(value)}")
        report["systems"][name] = {"metrics": metrics, "themes": {t: sc.theme(t) for t in sc.themes()},
                                   "polarity confusion": {f"{g} -> {p}": n for (g, p), n in sorted(sc.polarity.items())}}
    best = list(scores)[-1]
    sc = scores[best]
    if per_theme:
        click.echo(f"# per theme ({best})")
        click.echo("theme\tprecision\trecall\tF1\tsupport")
        for t in sorted(sc.themes(), key=lambda t: (-sc.theme(t)["support"], t)):
            m = sc.theme(t)
            click.echo(f"{t}\t{m['precision']:.2f}\t{m['recall']:.2f}\t{m['f1']:.2f}\t{m['support']}")
    click.echo(f"# polarity confusion ({best}; rows: labelled, columns: predicted)")
    click.echo("labelled\t" + "\t".join(POLARITIES))
    for g in POLARITIES:
        click.echo(g + "\t" + "\t".join(str(sc.polarity[(g, p)]) for p in POLARITIES))
    if metrics_file:
        metrics_file.write_text(json.dumps(report, indent=1))


@cli.command()
@store_option
def stats(store_path):
    """Counts of what the store holds: documents by kind, findings, recommendations, themes."""
    from .extract.export import store_stats

    for label, value in store_stats(_store(store_path, read_only=True)):
        click.echo(f"{label}:\t{value}")


if __name__ == "__main__":  # python -m ofsted_kg.cli
    cli()
