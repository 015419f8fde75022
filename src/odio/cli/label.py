"""``odio label``: a labelling project in one SQLite file, its page in the browser, and the
file ``odio train`` reads. Subcommands: ``init``, ``serve``, ``export``, ``status``,
``retrain``; the page's settings are the fields of :class:`~odio.label.web.LabelSettings`
(flags generated from them, and ``ODIO_LABEL_<FIELD>`` variables; the shared token is
``ODIO_LABEL_TOKEN`` only)."""

from __future__ import annotations

import argparse
from typing import Any

from odio.cli import common, flags
from odio.errors import OdioError

SUMMARY = "label your own tweets in the browser, with a team"
DESCRIPTION = (
    "Make a labelling project (one SQLite file) from a file of tweets, ranked by a run's fold "
    "models, or from a run's suspected label errors (--review); label it in the browser with "
    "a team (keyboard, several votes per tweet, every click saved); export the votes in the "
    "Datathon format that odio train reads with --min-votes; see the agreement; retrain and "
    "re-rank the queue."
)
EXAMPLES = [
    "odio label init project.db tweets.csv --model runs/tfidf",
    "ODIO_LABEL_TOKEN=secret odio label serve project.db --votes 3",
    "odio label status project.db",
    "odio label export project.db -o labelled.csv",
    "odio label retrain project.db --strategy committee",
]
LIST_OPTIONS = ("--labels",)
COMMANDS = ("init", "serve", "export", "status", "retrain")


def _subcommand(
    sub: Any, name: str, help: str, project: str = "the project file"
) -> argparse.ArgumentParser:
    """A ``odio label`` subcommand with its PROJECT.db argument."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, formatter_class=common.HelpFormatter
    )
    parser.add_argument("project", metavar="PROJECT.db", help=project)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="label_command", required=True, metavar="SUBCOMMAND")
    init = _subcommand(
        sub,
        "init",
        "make a project from a file of tweets, or from a run to review",
        project="the project file to write",
    )
    init.add_argument(
        "tweets",
        metavar="TWEETS",
        nargs="?",
        help="CSV, TSV, JSONL, JSON or Parquet with a text column; ids and other columns kept",
    )
    init.add_argument("--model", metavar="RUN", help="rank the queue by this run's fold models")
    init.add_argument(
        "--review",
        metavar="RUN",
        help="instead of TWEETS: the run's tweets whose out-of-fold probability most "
        "contradicts their label, shown with it, to confirm or correct",
    )
    init.add_argument("--top", type=common.positive, default=100, help="tweets to review")
    init.add_argument(
        "--labels", nargs="+", metavar="LABEL", help="labels (default: the model's, or Datathon's)"
    )
    init.add_argument(
        "--strategy",
        help="queue order: random, uncertainty, committee or diverse (default with --model: "
        "uncertainty; without: the file's order)",
    )
    init.add_argument("--seed", type=int, default=0, help="seed of random and diverse orders")
    init.add_argument("--text-column", default="text", help="column holding the tweets")
    init.add_argument("--id-column", help="column of tweet ids (default: id or tweet_id)")
    init.add_argument("--format", help="TWEETS's format (default: from its name)")
    init.add_argument("--sep", help="TWEETS's delimiter (default: from its name or header)")
    init.add_argument("--encoding", default="utf-8", help="TWEETS's encoding")

    serve = _subcommand(sub, "serve", "the labelling page, at 127.0.0.1:8765")
    _add_settings(serve)

    export = _subcommand(sub, "export", "the votes in the Datathon format")
    export.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="CSV to write (TSV for .tsv)"
    )
    export.add_argument(
        "--all", action="store_true", help="every tweet, with zero votes where none was given"
    )

    status = _subcommand(sub, "status", "progress, agreement per label, the most disputed tweets")
    status.add_argument("--top", type=common.positive, default=10, help="disputed tweets shown")
    status.add_argument(
        "--votes", type=common.positive, default=3, help="votes a tweet needs to be complete"
    )

    retrain = _subcommand(
        sub, "retrain", "fit a TF-IDF run on the labels so far and re-rank the queue"
    )
    retrain.add_argument(
        "--folds", type=common.positive, default=5, help="folds (fewer for a rare label)"
    )
    retrain.add_argument(
        "--strategy", default="uncertainty", help="queue order: uncertainty, committee, diverse"
    )
    retrain.add_argument("--seed", type=int, default=0, help="seed of the run and the order")


def _add_settings(parser: argparse.ArgumentParser) -> None:
    from odio.label.web import LabelSettings

    flags.add_model_flags(parser, LabelSettings, exclude=("token",))


def run(args: argparse.Namespace) -> int:
    """Run the subcommand named."""
    return {
        "init": _init,
        "serve": _serve,
        "export": _export,
        "status": _status,
        "retrain": _retrain,
    }[args.label_command](args)


def _init(args: argparse.Namespace) -> int:
    from odio.label.create import init_project, review_project

    if (args.tweets is None) == (args.review is None):
        raise OdioError("give a file of tweets to label, or --review RUN, not both")
    if args.review is not None:
        if args.model or args.labels or args.strategy:
            raise OdioError("--review takes its labels and order from the run")
        project = review_project(args.project, args.review, top=args.top)
    else:
        project = init_project(
            args.project,
            args.tweets,
            labels=args.labels,
            model=args.model,
            strategy=args.strategy,
            seed=args.seed,
            text_column=args.text_column,
            id_column=args.id_column,
            format=args.format,
            sep=args.sep,
            encoding=args.encoding,
        )
    what = "to review" if project.kind == "review" else "to label"
    print(
        f"{project.path}: {project.size} tweets {what}, labels {', '.join(project.labels)}; "
        f"open it with: odio label serve {project.path}"
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    from odio.label.web import LabelServer, LabelSettings, settings

    config = settings(**flags.model_flags(args, LabelSettings))
    server = LabelServer(args.project, config)
    print(f"labelling {args.project} at {server.url} (Ctrl-C stops)", flush=True)
    if config.host not in ("127.0.0.1", "localhost", "::1") and config.token is None:
        print("warning: the page is open to the network without a token (ODIO_LABEL_TOKEN)")
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def _export(args: argparse.Namespace) -> int:
    from odio.label.export import ANNOTATORS, write_export
    from odio.label.project import Project

    project = Project(args.project)
    written = write_export(project, args.output, everything=args.all)
    print(
        f"{args.output}: {written} tweets, one column per label holding its votes and "
        f"{ANNOTATORS!r}; train with: odio train {args.output} --min-votes 2"
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    from odio.label.consensus import alphas, disputed
    from odio.label.project import Project

    project = Project(args.project)
    p = project.progress(args.votes)
    print(
        f"{project.path}: {p['labelled']} of {p['total']} tweets labelled, {p['complete']} "
        f"with {args.votes} votes"
    )
    for name, n in p["annotators"].items():
        print(f"  {name}: {n['votes']} votes, {n['skips']} skips")
    print("agreement (Krippendorff's alpha):")
    for label, alpha in alphas(project).items():
        print(f"  {label}: {'n/a (too few shared votes)' if alpha is None else f'{alpha:.3f}'}")
    most = disputed(project, args.top)
    if most:
        print("most disputed tweets:")
    for item in most:
        votes = ", ".join(f"{label} {item.get(label, 0)}" for label in project.labels)
        text = " ".join(item["text"].split())
        short = text if len(text) <= 100 else text[:99] + "…"
        print(f"  [{item['tweet']}] {item['annotators']} annotators ({votes}): {short}")
    return 0


def _retrain(args: argparse.Namespace) -> int:
    from odio.label.create import rank_queue
    from odio.label.export import majority_frame
    from odio.label.project import Project
    from odio.label.retrain import retrain

    project = Project(args.project)
    labelled = majority_frame(project)
    pool = project.unlabelled()
    if not pool:
        raise OdioError(f"{args.project}: every tweet has a vote; nothing to re-rank")
    member_probs, thresholds = retrain(
        labelled, project.texts(pool), project.labels, folds=args.folds, seed=args.seed
    )
    project.set_model("retrain", thresholds.tolist(), member_probs, ids=pool)
    ranked = rank_queue(project, args.strategy, seed=args.seed)
    print(
        f"{args.project}: a {len(member_probs)}-fold TF-IDF run trained on {len(labelled)} "
        f"labelled tweets; {len(ranked)} tweets re-ranked by {args.strategy}"
    )
    return 0
