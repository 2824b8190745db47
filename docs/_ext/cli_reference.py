"""The ``fastem-cli`` directive: the command-line reference, written from the parser.

Each command gets a section with its usage line, its description and one entry per flag
with the help the command itself prints (defaults included), so the page says what
``fastem COMMAND --help`` says and cannot drift from it.
"""

from __future__ import annotations

import argparse
import re
import textwrap
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, subparser in action.choices.items():
                yield name, helps.get(name), subparser


def _plain(text: str) -> str:
    """``text`` as reST that shows it as written: every mark that reST could read as markup
    (``*``, backquotes, ``_``, ``|``, ``--``) is escaped, and lines are joined."""
    return re.sub(r"([^A-Za-z0-9\s])", r"\\\1", " ".join(text.split()))


def _paragraphs(text: str) -> list[str]:
    lines = []
    for paragraph in text.strip().split("\n\n"):
        lines += [_plain(paragraph), ""]
    return lines


def _flag_entry(parser: argparse.ArgumentParser, action: argparse.Action) -> list[str]:
    formatter = parser._get_formatter()
    invocation = formatter._format_action_invocation(action)
    text = formatter._expand_help(action) if action.help else ""
    return [f"``{invocation}``", "   " + (_plain(text) or "(no help)"), ""]


def _command_lines(name: str, summary: str | None, parser: argparse.ArgumentParser) -> list[str]:
    title = f"fastem {name}"
    lines = [f".. _cli-{name}:", "", title, "-" * len(title), ""]
    if summary:
        lines += [f"*{_plain(summary)}*", ""]
    lines += ["::", "", textwrap.indent(parser.format_usage().strip(), "   "), ""]
    if parser.description:
        lines += _paragraphs(parser.description)
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.help is not argparse.SUPPRESS]
        if not actions:
            continue
        heading = (group.title or "options").capitalize()
        lines += [f"**{heading}**", ""]
        for action in actions:
            lines += _flag_entry(parser, action)
    if parser.epilog:
        lines += _paragraphs(parser.epilog)
    return lines


class CommandLineReference(SphinxDirective):
    """Writes the reference of every ``fastem`` command."""

    has_content = False

    def run(self):
        from fastem.cli.commands import build_parser

        parser = build_parser()
        lines = ["::", "", textwrap.indent(parser.format_help().strip(), "   "), ""]
        for name, summary, subparser in _subparsers(parser):
            lines += _command_lines(name, summary, subparser)
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="fastem-cli"), container)
        return container.children


def _always_read(app, env, added, changed, removed):
    """The pages with the directive, read again at every build: their text comes from the
    parser, which changes without the page changing (a new command, a new flag)."""
    return [
        name
        for name in env.found_docs
        if str(env.doc2path(name)).endswith(".rst")
        and ".. fastem-cli::" in Path(env.doc2path(name)).read_text(encoding="utf-8")
    ]


def setup(app):
    app.add_directive("fastem-cli", CommandLineReference)
    app.connect("env-get-outdated", _always_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
