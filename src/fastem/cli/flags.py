"""What the commands' parsers share: the help's epilog and format, the flags of a data file
(:func:`add_data_options`), and the types of flags that several commands take.

The flags of the fit's options are in :mod:`fastem.cli.fit_options`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..checks import SAMPLE_WEIGHT_TYPES as WEIGHT_TYPES
from .csvscan import NA_VALUES

EPILOG = """\
exit status: 0 success; 2 a usage or data error (one line on stderr naming the file, line
and column); 1 an internal error (with its traceback); 130 interrupted (Ctrl-C), 143
SIGTERM, 129 SIGHUP; 141 the reader of standard output closed it (as in 'fastem simulate |
head').

files: every output path (--out, --csv, --json, --raw, --plot) is checked before any work,
and written only at the end, all at once: a failed or stopped command leaves no output
file and no partial file (stderr says what was written if a signal comes during the final
renames). A file is written beside its target and renamed over it, so readers never see
half of it; an existing file keeps its permissions, a new one gets 0666 minus the umask;
a symlink is followed and its target replaced. Two outputs may not name one file, nor an
output the input. A stream (/dev/stdout, /dev/fd/N, a FIFO, a device such as /dev/null)
is written as it is (after >>, it is appended to), before any file is renamed.
"""


class Formatter(argparse.HelpFormatter):
    """Every option's default once in its help: the help's own ``(default: ...)`` if it
    states one, else the option's default as it would be typed (``0.4 0.6``; ``off`` for a
    switch). Descriptions and the epilog filled paragraph by paragraph."""

    def _fill_text(self, text, width, indent):
        return "\n\n".join(
            super(Formatter, self)._fill_text(part, width, indent)
            for part in text.strip().split("\n\n")
        )

    def _get_help_string(self, action):
        text = action.help or ""
        if "(default: " in text or action.default is argparse.SUPPRESS or not action.option_strings:
            return text
        if action.nargs == 0 and action.const is True:  # a switch (store_true)
            return f"{text} (default: off)"
        if action.default is None:
            return text  # tests/test_cli.py checks that every such help states its default
        default = action.default
        if isinstance(default, (list, tuple)):
            default = " ".join(str(value) for value in default)
        return f"{text} (default: {str(default).replace('%', '%%')})"


def add_data_options(parser, weights=True):
    """FILE and the flags that say how to read it (:func:`fastem.cli.shared.read_data`);
    with ``weights``, the column of point weights and their kind too, else no weights are
    read."""
    parser.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="a CSV file (one column of values, or long with --by) or a .npy file",
    )
    _add_column_options(parser, weights)
    _add_header_options(parser, weights)
    parser.add_argument(
        "--sep",
        type=_separator,
        default=",",
        metavar="CHAR",
        help="the character between cells: , ; tab or | (default: ,)",
    )
    if weights:
        parser.add_argument(
            "--weights-type",
            choices=WEIGHT_TYPES,
            default=WEIGHT_TYPES[0],
            help="frequency: weights count points (binned data), and BIC's n "
            "is their sum; probability: sampling weights, rescaled per dataset "
            "to sum to its points of positive weight, and BIC's n is that number",
        )
    else:
        parser.set_defaults(weights_column=None)
    parser.add_argument(
        "--pool",
        action="store_true",
        help="fit all rows of a CSV as one "
        "dataset even when a column looks like dataset ids (without --by)",
    )
    _add_missing_value_options(parser)


def _add_column_options(parser, weights):
    """--by, --value and, with ``weights``, --weights-column: the columns of a CSV file."""
    parser.add_argument(
        "--by",
        help="column of dataset ids (long CSV), by name, or by number "
        "from 1 in a file without a header row (default: none, one dataset; "
        "the 'dataset' column of a file from 'fastem simulate')",
    )
    parser.add_argument(
        "--value",
        help="column of values, by name or number as for --by "
        "(default: the only column that no other option names)",
    )
    if weights:
        parser.add_argument(
            "--weights-column",
            help="column of point weights (weighted or "
            "binned data), by name or number as for --by (default: none, "
            "every point weighs 1)",
        )


def _add_header_options(parser, weights):
    """--header and --no-header, of which one at most."""
    header = parser.add_mutually_exclusive_group()
    header.add_argument(
        "--header",
        dest="header",
        action="store_const",
        const=True,
        help="the first row is a header, even if it holds numbers (2020) "
        "(default: the first row is a header unless a cell in it is a number)",
    )
    header.add_argument(
        "--no-header",
        dest="header",
        action="store_const",
        const=False,
        help="the file has no header row: the first row is data, and "
        f"{'--by, --value and --weights-column' if weights else '--by and --value'}"
        " name columns by number, from 1 (default: as for --header)",
    )


def _add_missing_value_options(parser):
    """--dropna and --na-values: what a missing value is, and what to do with one."""
    parser.add_argument(
        "--dropna",
        action="store_true",
        help="leave out rows with a missing "
        "value (a blank line, a value or weight that is empty or one of "
        "--na-values) instead of stopping at the first",
    )
    parser.add_argument(
        "--na-values",
        type=_na_values,
        default=",".join(NA_VALUES),
        metavar="LIST",
        help="comma-separated cells that stand for a missing "
        "value besides an empty one, compared case and all (R's read.csv "
        "na.strings); '' for none",
    )


def figure_file(text):
    """``--plot FILE``: a name whose suffix says the figure's format (``figure_format``)."""
    from ..toolkit.plots import figure_format

    try:
        figure_format(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _na_values(text):
    """``--na-values``: the cells of a comma-separated list, stripped."""
    return tuple(cell.strip() for cell in text.split(",") if cell.strip())


def _separator(text):
    from .datafiles import separator

    try:
        return separator(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--sep ")) from None


def n_init(text: str):
    """``--n-init`` and ``--n-init-data``: a number of restarts, or ``auto``."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"give a number of restarts or auto, not {text!r}"
        ) from None
