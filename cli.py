"""The ofsted-kg command line: click commands that parse options, call the pipeline and format results."""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import sys
from contextlib import ExitStack
from importlib.resources import as_file
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__
from .extract.errors import InputError
from .extract.store import DEFAULT_STORE, STORE_ENV, Store, default_store_path

if TYPE_CHECKING:
    from .extract.remote import Backend

CONTEXT = {"help_option_names": ["-h", "--help"]}
DEMO_STORE = "ofsted-kg-demo-store"


def store_option(f):
    return click.option(
        "-S", "--store", "store_path", type=click.Path(file_okay=False, path_type=Path), default=None,
        help=f"Folder of the embedded store [default: ${STORE_ENV} or ./{DEFAULT_STORE}].",
    )(f)


def endpoint_options(writes: bool):
    """-E/--endpoint and its companions: a SPARQL 1.1 server as the store, instead of the embedded one.

    The command receives them as one argument, `remote`: an extract.remote.Endpoints, or
    None. The update and Graph Store endpoints are offered only to commands that write.
    """
    env = {"endpoint": "OFSTED_KG_ENDPOINT", "update": "OFSTED_KG_UPDATE_ENDPOINT",
           "graph_store": "OFSTED_KG_GRAPH_STORE", "user": "OFSTED_KG_USER", "password": "OFSTED_KG_PASSWORD"}
    options = [
        click.option("-E", "--endpoint", envvar=env["endpoint"], show_envvar=True, metavar="URL", default=None,
                     help="SPARQL query endpoint of a server to use instead of the embedded store "
                          "(Virtuoso: http://HOST:8890/sparql)."),
        click.option("-U", "--update-endpoint", envvar=env["update"], show_envvar=True, metavar="URL", default=None,
                     help="SPARQL Update endpoint [default: the --endpoint] (Virtuoso: .../sparql-auth)."),
        click.option("-G", "--graph-store-endpoint", "graph_store", envvar=env["graph_store"], show_envvar=True,
                     metavar="URL", default=None,
                     help="Graph Store Protocol endpoint: each document is written in one PUT, faster than "
                          "SPARQL Update (Virtuoso: .../sparql-graph-crud-auth)."),
        click.option("-u", "--user", envvar=env["user"], show_envvar=True, default=None,
                     help="User name for the server (HTTP Digest or Basic, as the server asks)."),
        click.option("-P", "--password", envvar=env["password"], show_envvar=True, default=None,
                     help="Password for the server (better from the environment than on the command line)."),
    ]
    if not writes:
        options = [options[0], *options[3:]]

    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, endpoint, user, password, update_endpoint=None, graph_store=None, **kwargs):
            remote = None
            if endpoint:
                from .extract.remote import Endpoints

                if user and password is None:
                    raise click.UsageError(f"--user {user} needs --password (or ${env['password']})")
                remote = Endpoints(endpoint, update_endpoint, graph_store, user, password)
            elif update_endpoint or graph_store:
                raise click.UsageError("--update-endpoint and --graph-store-endpoint need --endpoint "
                                       f"(or ${env['endpoint']})")
            return f(*args, remote=remote, **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def silent_option(f):
    return click.option("-s", "--silent", is_flag=True, help="No progress bar.")(f)


def _store(path: Path | None, read_only: bool = False, remote=None) -> Backend:
    """The embedded store, or the SPARQL server named by the endpoint options."""
    if remote is not None:
        if path is not None:
            raise click.UsageError("--store and --endpoint name two stores; give one")
        from .extract.remote import RemoteStore

        return RemoteStore(remote, read_only=read_only)
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


def run_ingest(paths, store: Backend, silent: bool, extra_register=None, force=False, jobs=1) -> int:
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
@endpoint_options(writes=True)
@click.pass_context
def ingest(ctx, paths, store_path, silent, force, jobs, remote):
    """Read reports (files or folders of .pdf, .txt, .md) into the store.

    With --endpoint, each document's named graph is replaced on a SPARQL 1.1 server
    instead (Graph Store Protocol PUT with --graph-store-endpoint, else SPARQL Update).

    An ingest that stores anything in the embedded store ends by compacting it (about
    1.5 s for the whole corpus), which makes queries on disk two to three times faster.

    \f
    Each document is validated against the SHACL shapes and stored as its own named
    graph in one transaction; a file that fails is reported and the batch goes on.
    """
    import os

    # the store is not kept in a local: the frame outlives ctx.exit's exception, and an
    # embedded store must be closed (its lock released) when the command ends
    ctx.exit(run_ingest(list(paths), _store(store_path, remote=remote), silent, force=force,
                        jobs=jobs or os.cpu_count() or 1))


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


def _run_query(store: Backend, name: str, params, fmt: str, limit: int | None, out=None) -> int:
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
@endpoint_options(writes=False)
def query(name, params, fmt, limit, output, store_path, remote):
    """Run a named query (see 'ofsted-kg queries') or a SPARQL file NAME.rq.

    With --endpoint the query runs on that SPARQL server; an answer the server cut at
    its row or time limit is reported as an error, never shown as complete.

    
    Formats: table (aligned, long cells cut), csv and tsv (the SPARQL 1.1
    CSV/TSV results formats; TSV keeps each term's type in Turtle syntax),
    json (SPARQL 1.1 results JSON), markdown.
    Example: ofsted-kg query theme-cooccurrence -p polarity weakness -f csv
    """
    _run_query(_store(store_path, read_only=True, remote=remote), name, params, fmt, limit, output)


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


# ------------------------------------------------------------------ serve

@cli.command()
@click.option("-H", "--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 opens the server to the network (no authentication).")
@click.option("-p", "--port", type=click.IntRange(0, 65535), default=8070, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("-t", "--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
              help="Seconds a query may run; a longer one is stopped and answered with 503.")
@click.option("-m", "--max-rows", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Rows (or triples) an answer may hold; a longer one is cut and says so in X-Ofsted-KG-Truncated.")
@click.option("-w", "--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Queries run at once, each in its own worker process.")
@click.option("-d", "--from-disk", is_flag=True,
              help="Query the store on disk instead of a copy in memory (starts at once, joins run slower).")
@click.option("-W", "--watch", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="Check the store for changes every SECONDS and reload when it has been quiet that long.")
@store_option
@click.pass_context
def serve(ctx, host, port, timeout, max_rows, workers, from_disk, watch, store_path):
    """Serve the store as a read-only SPARQL 1.1 endpoint (/sparql) with the named queries at /queries/NAME.

    \b
    Stop it with Ctrl-C or SIGTERM; SIGHUP reloads the store (as --watch does when it changes);
    SIGUSR1 prints every thread's stack to stderr (to see what a stuck server is doing).
    \f
    The store is copied into memory at start (about 12 s for the whole corpus), unless
    --from-disk. Each query runs in a worker process that is killed at the time limit.
    """
    from .extract.serve import ServeConfig, describe_load, run_serve

    if ctx.find_root().params.get("verbose", 0) == 0:  # start, reloads, time-outs and cuts, but no access log
        logging.getLogger("ofsted_kg.extract.serve").setLevel(logging.INFO)
        logging.getLogger("ofsted_kg.extract.serve.access").setLevel(logging.WARNING)
        logging.getLogger("ofsted_kg.extract.querypool").setLevel(logging.INFO)
    config = ServeConfig(store=store_path or default_store_path(), host=host, port=port, timeout=timeout,
                         max_rows=max_rows, workers=workers, in_memory=not from_disk, watch=watch)

    def ready(url, info):
        click.echo(f"Serving {describe_load(info)}", err=True)
        click.echo(f"SPARQL endpoint: {url}/sparql   named queries: {url}/queries   (Ctrl-C stops)", err=True)

    run_serve(config, on_ready=ready)


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
    matrix, for the baseline (each theme's prefLabel alone, with the polarity cue rules
    alone) and for ofsted-kg's tagger (with the polarity model).
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
@endpoint_options(writes=False)
def stats(store_path, remote):
    """Counts of what the store holds: documents by kind, findings, recommendations, themes."""
    from .extract.export import store_stats

    for label, value in store_stats(_store(store_path, read_only=True, remote=remote)):
        click.echo(f"{label}:\t{value}")


# ------------------------------------------------------------------ charts

def filter_options(f):
    """The filters shared by graph and plot-heatmap: which evaluations and findings to count."""
    options = [
        click.option("-k", "--kind", "kinds", multiple=True, metavar="KIND",
                     help="Only evaluations of this kind, e.g. sif, ilacs-standard, focused-visit (repeatable)."),
        click.option("-F", "--from", "start", metavar="DATE",
                     help="Only evaluations dated on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD); "
                          "the date is the inspection's first day, else its publication date."),
        click.option("-T", "--to", "end", metavar="DATE", help="Only evaluations dated on or before DATE."),
        click.option("-p", "--polarity", "polarities", multiple=True, metavar="POLARITY",
                     help="Only findings of this polarity: strength, weakness, mixed, neutral (repeatable)."),
        click.option("-r", "--region", "regions", multiple=True, metavar="REGION",
                     help="Only authorities in this region, e.g. 'South East' (repeatable)."),
        click.option("-a", "--authority", "authorities", multiple=True, metavar="AUTHORITY",
                     help="Only this authority, a DfE code or a name (repeatable)."),
        click.option("-n", "--neighbours-of", metavar="AUTHORITY",
                     help="Only this authority's statistical neighbours (add -a for the authority itself)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _filters(kinds, start, end, polarities, regions, authorities, neighbours_of):
    from .extract.network import Filters, parse_period_bound

    return Filters(kinds=tuple(kinds), polarities=tuple(polarities), regions=tuple(regions),
                   authorities=tuple(authorities), neighbours_of=neighbours_of,
                   start=parse_period_bound(start) if start else None,
                   end=parse_period_bound(end, end=True) if end else None)


def _chart_format(fmt: str | None, output: Path | None, formats: tuple[str, ...]) -> str:
    """-f if given, else the output file's suffix, else html."""
    if fmt:
        return fmt
    if output is not None:
        suffix = output.suffix.lower().lstrip(".")
        suffix = "html" if suffix == "htm" else suffix
        if suffix in formats:
            return suffix
        raise click.UsageError(f"{output}: cannot tell the format from the suffix; give -f ({'|'.join(formats)})")
    return "html"


def _write_chart(data: bytes, fmt: str, output: Path | None) -> None:
    if output is not None:
        try:
            output.write_bytes(data)
        except OSError as err:
            raise InputError(f"{output}: cannot write ({err.strerror})") from err
        click.echo(f"wrote {output}", err=True)
    elif fmt == "png" and sys.stdout.isatty():
        raise click.UsageError("a PNG would be written to the terminal; give -o FILE or redirect stdout")
    else:
        sys.stdout.buffer.write(data)


def run_graph(store: Store, filters, fmt: str, weight: str, min_weight: int, min_lift: float, seed: int,
              passages: int, title: str | None) -> bytes:
    from .extract.network import build_graph, graph_bytes, sample_passages, select

    selection = select(store, filters)
    if not selection.themes_of:
        raise InputError(f"no finding with a theme matches the filters ({filters.describe()})")
    G = build_graph(selection, weight=weight, min_weight=min_weight, min_lift=min_lift, seed=seed)
    title = title or "Themes found together on the same finding"
    if fmt in ("graphml", "gexf", "json"):
        return graph_bytes(G, fmt)
    if fmt in ("png", "svg"):
        from .extract.draw import draw_network

        return draw_network(G, title, fmt)
    from .extract.html import network_page

    partners = 10
    found, by_theme, by_pair = sample_passages(store, selection, G, per_theme=passages, per_pair=min(passages, 3),
                                               partners=partners)
    return network_page(G, found, by_theme, by_pair, partners, title).encode("utf-8")


GRAPH_FORMATS = ("html", "graphml", "gexf", "json", "png", "svg")
PLOT_FORMATS = ("html", "png", "svg")


@cli.command()
@filter_options
@click.option("-f", "--format", "fmt", type=click.Choice(GRAPH_FORMATS), default=None,
              help="html (interactive, offline), graphml or gexf (Gephi), json (node-link), png or svg "
                   "[default: from the -o suffix, else html].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to FILE instead of stdout.")
@click.option("-w", "--weight", type=click.Choice(["lift", "pmi", "count"]), default="lift", show_default=True,
              help="Edge weight for the layout, the communities and the strongest partners.")
@click.option("-m", "--min-weight", type=click.IntRange(min=1), default=5, show_default=True,
              help="Leave out pairs found together on fewer findings than this (as the theme-cooccurrence "
                   "query's min_count; 1 keeps every pair).")
@click.option("-L", "--min-lift", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Leave out pairs with a lower lift than this (1 = as often as chance).")
@click.option("-R", "--seed", type=int, default=1, show_default=True,
              help="Seed of the layout, the community detection and the choice of sample passages.")
@click.option("-P", "--passages", type=click.IntRange(min=0), default=5, show_default=True,
              help="Sample passages kept per theme in the HTML page (3 at most per pair).")
@click.option("-t", "--title", default=None, help="Title of the picture or page.")
@store_option
def graph(kinds, start, end, polarities, regions, authorities, neighbours_of, fmt, output, weight, min_weight,
          min_lift, seed, passages, title, store_path):
    """The theme co-occurrence network: themes found together on the same finding.

    \b
    Nodes are themes: size is the number of authorities with a finding on the theme,
    colour the share of its findings that are weaknesses, the ring its community
    (Louvain, seeded). Edges join themes found on the same finding, with the number of
    findings, lift and PMI. Examples:
      ofsted-kg graph -o themes.html
      ofsted-kg graph -p weakness -k ilacs-standard -F 2019 -o weaknesses.gexf
      ofsted-kg graph -n Reading -a Reading -m 2 -f png -o reading-neighbours.png

    \f
    Counts equal those of the theme-cooccurrence named query on the same store.
    """
    filters = _filters(kinds, start, end, polarities, regions, authorities, neighbours_of)
    fmt = _chart_format(fmt, output, GRAPH_FORMATS)
    data = run_graph(_store(store_path, read_only=True), filters, fmt, weight, min_weight, min_lift, seed, passages, title)
    _write_chart(data, fmt, output)


def run_plot_heatmap(store: Store, filters, fmt: str, measure: str, order: str, title: str | None) -> bytes:
    from .extract.heatmap import build_heatmap
    from .extract.network import select

    selection = select(store, filters)
    if not selection.themes_of:
        raise InputError(f"no finding with a theme matches the filters ({filters.describe()})")
    hm = build_heatmap(store, selection, measure=measure, order=order)
    title = title or "Themes by authority"
    subtitle = (f"{len(hm.authorities)} authorities x {len(hm.themes)} themes; {len(selection.findings)} findings; "
                f"{filters.describe()}; cell: {hm.measure_label()}; authorities ordered by "
                f"{'latest overall grade' if order == 'grade' else order}.")
    if fmt in ("png", "svg"):
        from .extract.draw import draw_heatmap

        return draw_heatmap(hm, title, fmt)
    from .extract.html import heatmap_page

    return heatmap_page(hm, title, subtitle).encode("utf-8")


@cli.command("plot-heatmap")
@filter_options
@click.option("-f", "--format", "fmt", type=click.Choice(PLOT_FORMATS), default=None,
              help="html, png or svg [default: from the -o suffix, else html].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to FILE instead of stdout.")
@click.option("-b", "--by", "order", type=click.Choice(["grade", "region", "name"]), default="grade", show_default=True,
              help="Order authorities by their latest overall grade, by region or by name.")
@click.option("-c", "--cell", "measure", type=click.Choice(["share", "findings", "weakness"]), default="share",
              show_default=True,
              help="Each cell: the share of the authority's findings carrying the theme, their number, or the number of weakness findings.")
@click.option("-t", "--title", default=None, help="Title of the picture or page.")
@store_option
def plot_heatmap(kinds, start, end, polarities, regions, authorities, neighbours_of, fmt, output, order, measure,
                 title, store_path):
    """Authorities x themes: how much of each authority's findings each theme takes.

    \b
    Examples:
      ofsted-kg plot-heatmap -o heatmap.html
      ofsted-kg plot-heatmap -p weakness -b region -c weakness -o weakness-by-region.png
    """
    filters = _filters(kinds, start, end, polarities, regions, authorities, neighbours_of)
    fmt = _chart_format(fmt, output, PLOT_FORMATS)
    _write_chart(run_plot_heatmap(_store(store_path, read_only=True), filters, fmt, measure, order, title), fmt, output)


def run_plot_timeline(store: Store, authority: str, fmt: str, title: str | None) -> bytes:
    from .extract.draw import draw_timeline
    from .extract.timeline import build_timeline

    tl = build_timeline(store, authority)
    title = title or f"{tl.authority} ({tl.code}): judgements over time"
    graded = sum(len(ev.judgements) for ev in tl.evaluations)
    subtitle = f"{len(tl.evaluations)} evaluations, {graded} graded judgements."
    if fmt in ("png", "svg"):
        return draw_timeline(tl, title, fmt)
    from .extract.html import timeline_page

    return timeline_page(tl, title, subtitle, draw_timeline(tl, title, "svg").decode("utf-8")).encode("utf-8")


@cli.command("plot-timeline")
@click.argument("authority")
@click.option("-f", "--format", "fmt", type=click.Choice(PLOT_FORMATS), default=None,
              help="html, png or svg [default: from the -o suffix, else html].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to FILE instead of stdout.")
@click.option("-t", "--title", default=None, help="Title of the picture or page.")
@store_option
def plot_timeline(authority, fmt, output, title, store_path):
    """One authority's evaluations and graded judgements over time (AUTHORITY: DfE code or name).

    \b
    Example:
      ofsted-kg plot-timeline Reading -o reading.png
    """
    fmt = _chart_format(fmt, output, PLOT_FORMATS)
    _write_chart(run_plot_timeline(_store(store_path, read_only=True), authority, fmt, title), fmt, output)


if __name__ == "__main__":  # python -m ofsted_kg.cli
    cli()
