"""The CSV reader of ``fastem fit``: the fast parser, the slow scan that names bad cells, and
the rules both share (header, numbers, text encoding, blank lines)."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastem.cli import csvfast, csvlayout, csvscan
from fastem.cli import datafiles as _io
from fastem.cli.datafiles import DataFileError, read_datasets

MANY = 3000  # rows: more than the slow scan reads before the fast parser starts


def write(tmp_path, content, name="data.csv"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def error_of(path, **options):
    with pytest.raises(DataFileError) as caught:
        read_datasets(path, **options)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def slow_only():
    """The reader with the fast parser switched off: the slow scan reads every file."""
    return mock.patch.object(_io, "parse_fast", lambda layout: None)


def fast_only():
    """The reader with the slow scan switched off: a file it cannot take fails the test."""

    def refuse(layout):
        raise AssertionError("the fast parser refused the file")

    return mock.patch.object(_io, "parse_slow", refuse)


def test_a_valid_file_is_read_by_the_fast_parser_alone(tmp_path):
    rows = "".join(f"{d},{x!r},{k}\n" for d, x, k in [(7, 0.5, 1), (7, -1.25, 2), (3, 2.0, 1)])
    path = write(tmp_path, "dataset,value,component\n" + rows)
    with fast_only():
        ids, data, weights = read_datasets(path)
    assert ids == ["7", "3"] and weights is None
    assert [d.tolist() for d in data] == [[0.5, -1.25], [2.0]]
    column = write(tmp_path, "".join(f"{x!r}\n" for x in [0.1, -2e-300, 3.5e10]), "x.csv")
    with fast_only():
        assert read_datasets(column)[1][0].tolist() == [0.1, -2e-300, 3.5e10]


def test_string_ids_quotes_and_weights_are_read_by_the_fast_parser(tmp_path):
    path = write(tmp_path, 'name,x,w,note\n"a,b",1,2,é\n c ,2,0,€\n"a,b",3,1.5,\nc,4,1,x\n')
    with fast_only():
        ids, data, weights = read_datasets(path, by="name", value="x", weights_column="w")
    assert ids == ["a,b", "c"]
    assert [d.tolist() for d in data] == [[1.0, 3.0], [2.0, 4.0]]
    assert [w.tolist() for w in weights] == [[2.0, 1.5], [0.0, 1.0]]


def test_datasets_come_in_order_of_first_appearance_with_ids_stripped(tmp_path):
    path = write(tmp_path, 'id,value\nb,1\n a,2\nb,3\na ,4\n"b",5\n')
    for reader in (fast_only, slow_only):
        with reader():
            ids, data, _ = read_datasets(path, by="id")
        assert ids == ["b", "a"]
        assert [d.tolist() for d in data] == [[1.0, 3.0, 5.0], [2.0, 4.0]]


def test_ids_longer_than_any_in_the_first_rows_are_kept_whole(tmp_path):
    long_id = "sample-" + "x" * 200
    path = write(tmp_path, "id,value\n" + "a,1\n" * MANY + f"{long_id},2\n{long_id[:8]},3\n")
    with fast_only():
        ids, data, _ = read_datasets(path, by="id")
    assert ids == ["a", long_id, long_id[:8]]
    assert [len(d) for d in data] == [MANY, 1, 1]


def test_ids_outside_latin_1_are_read_by_the_slow_scan(tmp_path):
    path = write(tmp_path, "id,value\n€,1\nĳ,2\n€,3\né,4\n")
    ids, data, _ = read_datasets(path, by="id")
    assert ids == ["€", "ĳ", "é"] and [len(d) for d in data] == [2, 1, 1]


ids = st.sampled_from(["a", " a", "b", '"a,b"', "é", "€", "", "7", "007"])
values = st.sampled_from(["1", "-2.5", " 3 ", "+4e1", ".5", '"6"', "-0", "1e-300"])
weights = st.sampled_from(["1", " 2 ", "0", ".5", '"3"'])
rows = st.lists(st.tuples(ids, values, weights).map(list), min_size=1, max_size=6)
faults = st.tuples(
    st.integers(0, 5),
    st.integers(1, 2),
    st.sampled_from(["x", "", " ", "1_0", "nan", "-1", "1,2", "1.5.2"]),
)


@settings(derandomize=True, deadline=None, max_examples=300)
@given(rows, st.lists(st.integers(0, 8), max_size=3), st.none() | faults)
def test_the_fast_parser_agrees_with_the_slow_scan(tmp_path_factory, rows, blanks, fault):
    if fault is not None:
        row, column, cell = fault
        rows[row % len(rows)][column] = cell
    lines = [",".join(row) for row in rows]
    for at in blanks:
        lines.insert(min(at, len(lines)), "")
    path = write(tmp_path_factory.mktemp("agree"), "id,value,w\n" + "\n".join(lines) + "\n")
    layout = csvlayout.read_layout(path, "id", "value", "w")
    try:
        slow = csvscan.parse_slow(layout)
    except DataFileError:
        assert csvfast.parse_fast(layout) is None
        return
    fast = csvfast.parse_fast(layout)
    if fast is not None:
        assert fast.blank_lines == slow.blank_lines
        assert repr(_io._group(fast)) == repr(_io._group(slow))


@pytest.mark.parametrize(
    ("bad_row", "fragment"),
    [
        ("a,abc,1", "column 'value': 'abc' is not a number"),
        ("a,1_000,1", "column 'value': '1_000' is not a number"),
        ("a,٣,1", "column 'value': '٣' is not a number"),
        (
            "a, ,1",
            "column 'value': empty cell; fill it in or remove the row, or pass --dropna to "
            "leave out rows with a missing value",
        ),
        ("a,inf,1", "column 'value': 'inf' (NaN or infinite) is not allowed; remove the row"),
        ("a,1e400,1", "column 'value': '1e400' (NaN or infinite) is not allowed; remove the row"),
        (
            "a,1,NaN",
            "column 'w': 'NaN', a missing value (--na-values); fill it in or remove "
            "the row, or pass --dropna to leave out rows with a missing value",
        ),
        (
            "a,1,nan",
            "column 'w': 'nan' (NaN or infinite) is not allowed; remove the row, or "
            "pass --na-values NA,NaN,nan to read it as a missing value",
        ),
        ("a,1,-0.5", "column 'w': negative weight '-0.5'; weights count points, so give 0 or more"),
        ("a,1", ": 2 cells, but the header has 3; give every row 3"),
        ("a,1,1,", ": 4 cells, but the header has 3; give every row 3"),
    ],
)
def test_a_bad_cell_far_down_the_file_is_named_by_line_and_column(tmp_path, bad_row, fragment):
    path = write(tmp_path, "id,value,w\n" + "a,1.5,1\n" * MANY + bad_row + "\na,2,1\n")
    message = error_of(path, by="id", weights_column="w")
    assert message.startswith(f"{path}, line {MANY + 2}") and message.endswith(fragment)


def test_loadtxt_and_float_disagree_and_the_reader_follows_loadtxt(tmp_path):
    accepted = [" 2.5 ", "\t2.5", "+3", "-.5", "5.", "1e5", "1E-5", '"7"']
    path = write(tmp_path, "value\n" + "\n".join(accepted) + "\n")
    values = [2.5, 2.5, 3.0, -0.5, 5.0, 1e5, 1e-5, 7.0]
    for reader in (fast_only, slow_only):
        with reader():
            assert read_datasets(path)[1][0].tolist() == values
    for refused in ["1_000", "0x1p3", "٣", "1,5", "1e", "nan(1)", "1d5"]:
        path = write(tmp_path, f"value\n1\n{refused}\n")
        assert error_of(path).startswith(f"{path}, line 3")


def test_a_byte_order_mark_is_no_value_and_no_part_of_a_name(tmp_path):
    values = write(tmp_path, "\ufeff1.5\n2.0\n3.0\n", "values.csv")
    assert read_datasets(values)[1][0].tolist() == [1.5, 2.0, 3.0]
    named = write(tmp_path, "\ufeffid,value\na,1\na,2\n", "named.csv")
    ids, data, _ = read_datasets(named, by="id", value="value")
    assert ids == ["a"] and data[0].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("first", ["1.5.2", "1e", ".5.", "-1x", "+.5e"])
def test_a_malformed_number_in_the_first_row_is_an_error_not_a_header(tmp_path, first):
    path = write(tmp_path, f"{first}\n2\n3\n")
    assert error_of(path) == f"{path}, line 1, column 'column 1': {first!r} is not a number"


@pytest.mark.parametrize("first", ["nan", "-inf", "Infinity"])
def test_a_first_row_of_nan_or_inf_is_data(tmp_path, first):
    path = write(tmp_path, f"{first}\n2\n3\n")
    assert error_of(path).startswith(f"{path}, line 1, column 'column 1': {first!r} (NaN")


def test_a_first_row_of_names_is_a_header(tmp_path):
    path = write(tmp_path, "x\n1\n2\n")
    assert read_datasets(path, value="x")[1][0].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("line", [3, MANY])
def test_bytes_that_are_not_utf8_are_named_by_line(tmp_path, line):
    body = b"".join(b"1.5\n" for _ in range(line - 2))
    path = write(tmp_path, b"value\n" + body + b"2\xff\n3\n")
    assert error_of(path) == (
        f"{path}, line {line}: not UTF-8 text (byte 0xff); save the file as UTF-8"
    )


def test_a_cell_longer_than_the_csv_limit_is_named_by_line(tmp_path):
    path = write(tmp_path, 'value\n1\n"' + "9" * 200_000 + "\n2\n")
    message = error_of(path)
    assert message.startswith(f"{path}, line 3: a cell longer than 131072 characters")


def test_a_directory_is_refused_with_what_to_give(tmp_path):
    for directory in (tmp_path, tmp_path / "data.npy"):
        directory.mkdir(exist_ok=True)
        assert error_of(directory) == f"{directory}: is a directory; give a CSV or .npy file"


def test_a_file_that_cannot_be_opened_is_a_one_line_error(tmp_path):
    path = write(tmp_path, "1\n2\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    with mock.patch.object(_io, "open", refuse, create=True):
        assert error_of(path) == (
            f"{path}: cannot be read (Permission denied); check the file's permissions"
        )


def test_the_format_simulate_writes_needs_no_options(tmp_path):
    path = write(tmp_path, "dataset,value,component\n0,1.5,1\n0,2.5,2\n1,-1,1\n")
    ids, data, weights = read_datasets(path)
    assert ids == ["0", "1"] and weights is None
    assert [d.tolist() for d in data] == [[1.5, 2.5], [-1.0]]


def test_a_blank_line_between_data_is_a_missing_value_unless_dropped(tmp_path):
    empty_lines = write(tmp_path, "value\n1\n\n2\n\n", "empty.csv")
    for reader in (fast_only, slow_only):
        with reader():
            with pytest.raises(
                DataFileError,
                match=r"empty.csv, line 3: a blank line, that is "
                "a missing value; .* pass --dropna",
            ):
                read_datasets(empty_lines)
            assert read_datasets(empty_lines, dropna=True)[1][0].tolist() == [1.0, 2.0]
    layout = csvlayout.read_layout(empty_lines, None, "value", None)
    assert csvfast.parse_fast(layout).blank_lines == csvscan.parse_slow(layout).blank_lines == 2
    blank_cells = write(tmp_path, "\nvalue\n1\n\n2\n  \n,\n3\n\n", "blank.csv")
    with pytest.raises(DataFileError, match="blank.csv, line 4: a blank line"):
        read_datasets(blank_cells)
    assert read_datasets(blank_cells, dropna=True)[1][0].tolist() == [1.0, 2.0, 3.0]
    assert (
        csvscan.parse_slow(csvlayout.read_layout(blank_cells, None, "value", None)).blank_lines == 4
    )
    # Blank lines after the last value (as editors leave them) and before the header are no
    # missing values.
    trailing = write(tmp_path, "\n\nvalue\n1\n2\n\n\n", "trailing.csv")
    assert read_datasets(trailing)[1][0].tolist() == [1.0, 2.0]


def test_dropna_leaves_out_rows_with_an_empty_value_or_weight(tmp_path):
    path = write(tmp_path, "id,value,w\na,1,1\na,,1\nb,3,\nb,4,2\na,2,1\n", "holes.csv")
    with pytest.raises(DataFileError, match="line 3, column 'value': empty cell"):
        read_datasets(path, by="id", weights_column="w")
    ids, data, weights = read_datasets(path, by="id", weights_column="w", dropna=True)
    assert ids == ["a", "b"] and [d.tolist() for d in data] == [[1.0, 2.0], [4.0]]
    assert [w.tolist() for w in weights] == [[1.0, 1.0], [2.0]]


def test_options_that_name_one_column_twice_are_refused(tmp_path):
    path = write(tmp_path, "id,value\na,1\n")
    assert "name the same column" in error_of(path, by="value", value="value")


def test_without_a_header_row_columns_are_chosen_by_number_from_1(tmp_path):
    path = write(tmp_path, "7,1.5,2\n7,2.5,1\n8,3.5,1\n")
    ids, data, weights = read_datasets(path, by="1", value="2", weights_column="3")
    assert ids == ["7", "8"] and [d.tolist() for d in data] == [[1.5, 2.5], [3.5]]
    assert [w.tolist() for w in weights] == [[2.0, 1.0], [1.0]]
    rule = "the first row was read as data, as its cell '7' is a number; pass --header"
    assert error_of(path, by="a") == (
        f"{path}: --by 'a': without a header row, columns are "
        f"named by number, 1 to 3 ({rule} if it is a header)"
    )
    assert "1 to 3" in error_of(path, value="4")
    assert error_of(path) == (
        f"{path} has 3 columns (column 1, column 2, column 3); choose the "
        "one to fit with --value and the one of dataset ids, if any, with "
        f"--by, by number, 1 to 3 ({rule} if it is a header)"
    )


def test_header_and_no_header_overrule_the_first_row(tmp_path):
    year = write(tmp_path, "2020\n1.5\n2.25\n3.5\n", "year.csv")
    with pytest.warns(UserWarning, match=r"first row \(2020\) was read as data .* pass --header"):
        assert read_datasets(year)[1][0].tolist() == [2020.0, 1.5, 2.25, 3.5]
    assert read_datasets(year, header=True)[1][0].tolist() == [1.5, 2.25, 3.5]
    assert read_datasets(year, header=True, value="2020")[1][0].tolist() == [1.5, 2.25, 3.5]
    assert read_datasets(year, header=False)[1][0].tolist() == [2020.0, 1.5, 2.25, 3.5]
    # Whole numbers all the way down (counts) are data without a word.
    counts = write(tmp_path, "12\n7\n9\n", "counts.csv")
    assert read_datasets(counts)[1][0].tolist() == [12.0, 7.0, 9.0]
    names = write(tmp_path, "x\n1\n2\n", "names.csv")
    assert error_of(names, header=False) == (
        f"{names}, line 1, column 'column 1': 'x' is not a number"
    )
    assert "(the first row is the header (--header))" in error_of(year, header=True, value="x")


@pytest.mark.parametrize(
    ("content", "options", "rule"),
    [
        (
            "a,b\n1,2\n",
            {},
            "the first row was read as a header, as none of its cells is a "
            "number; pass --no-header if it is data",
        ),
        (
            "a,1\n1,2\n",
            {"value": "x"},
            "the first row was read as data, as its cell '1' is a "
            "number; pass --header if it is a header",
        ),
        ("a,b\n1,2\n", {"header": True, "value": "c"}, "the first row is the header (--header)"),
        ("a,b\n1,2\n", {"header": False, "value": "c"}, "the file has no header row (--no-header)"),
        (
            "a,b\n",
            {"value": "a"},
            "the first row was read as a header, as none of its cells "
            "is a number; pass --no-header if it is data",
        ),
    ],
)
def test_messages_about_columns_say_which_header_rule_applied(tmp_path, content, options, rule):
    assert error_of(write(tmp_path, content), **options).endswith(f"({rule})")


@pytest.mark.parametrize(("sep", "char"), [(";", ";"), ("tab", "\t"), ("\\t", "\t"), ("|", "|")])
def test_other_separators_read_as_commas_do(tmp_path, sep, char):
    rows = [["id", "value", "w"], ["a", "1.5", "1"], ["a", "2.5", "2"], ["b", "-3e2", "1"]]
    path = write(tmp_path, "".join(char.join(row) + "\n" for row in rows))
    expected = read_datasets(
        write(tmp_path, "".join(",".join(row) + "\n" for row in rows), "commas.csv"),
        by="id",
        weights_column="w",
    )
    for reader in (fast_only, slow_only):
        with reader():
            got = read_datasets(path, by="id", weights_column="w", sep=_io.separator(sep))
            assert repr(got) == repr(expected)


@pytest.mark.parametrize(
    ("content", "sep", "message"),
    [
        (
            "a;b\n1;2\n3;4\n",
            ",",
            "the rows look separated by semicolons, not by commas; pass --sep ';'",
        ),
        (
            "x;y\n1,5;2,5\n3,5;4\n",
            ",",
            "the rows look separated by semicolons, not by commas; "
            "pass --sep ';' (decimal commas are not read; convert "
            "them to points (1,5 to 1.5) first, e.g. in the "
            "spreadsheet's export settings)",
        ),
        ("a\tb\n1\t2\n", ",", "the rows look separated by tabs, not by commas; pass --sep tab"),
        ("a,b\n1,2\n", ";", "the rows look separated by commas, not by semicolons; pass --sep ','"),
    ],
)
def test_rows_separated_by_another_character_name_sep(tmp_path, content, sep, message):
    path = write(tmp_path, content)
    assert error_of(path, sep=sep) == f"{path}: {message}"


def test_decimal_commas_get_a_hint(tmp_path):
    semicolons = write(tmp_path, "x;y\n1,5;2\n", "semicolons.csv")
    assert error_of(semicolons, sep=";", value="x") == (
        f"{semicolons}, line 2, column 'x': '1,5' is not a number; decimal commas are not "
        "read; convert them to points (1,5 to 1.5) first, e.g. in the spreadsheet's export "
        "settings"
    )
    one_column = write(tmp_path, "x\n1,5\n2,5\n", "one.csv")
    assert error_of(one_column).endswith(
        "give every row 1 (if these are decimal commas: "
        "decimal commas are not read; convert them to points "
        "(1,5 to 1.5) first, e.g. in the spreadsheet's export "
        "settings)"
    )


def test_separators_accepted_and_refused():
    assert [_io.separator(s) for s in (",", ";", "tab", "\t", "\\t", "|")] == [
        ",",
        ";",
        "\t",
        "\t",
        "\t",
        "|",
    ]
    with pytest.raises(ValueError, match="--sep ':': give one of , ; tab |"):
        _io.separator(":")


def test_the_values_written_by_repr_come_back_exactly(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=2000) * 10.0 ** rng.integers(-300, 300, size=2000)
    path = write(tmp_path, "".join(f"{v!r}\n" for v in x.tolist()))
    np.testing.assert_array_equal(read_datasets(path)[1][0], x)


def test_a_column_of_ids_left_unused_is_not_pooled_silently(tmp_path):
    named = write(tmp_path, "id,x\na,1\na,2\nb,5\nb,6\n", "named.csv")
    with pytest.raises(DataFileError, match="column 'id' looks like dataset ids .*--by id.*--pool"):
        read_datasets(named, value="x")
    numbered = write(tmp_path, "x,group\n1,1\n2,1\n5,2\n", "numbered.csv")
    with pytest.raises(DataFileError, match="'group' looks like dataset ids \\(repeated integers"):
        read_datasets(numbered, value="x")
    ids, data, _ = read_datasets(named, value="x", pool=True)
    assert ids == ["0"] and data[0].tolist() == [1.0, 2.0, 5.0, 6.0]
    assert len(read_datasets(named, by="id")[0]) == 2
    # A column of other measurements is no id column.
    other = write(tmp_path, "x,y\n1,0.5\n2,0.5\n3,0.7\n", "other.csv")
    assert read_datasets(other, value="x")[1][0].tolist() == [1.0, 2.0, 3.0]


def test_datasets_without_ids_in_the_file_are_numbered_from_0(tmp_path):
    # As the Python API, its tables and fastem simulate number them.
    assert read_datasets(write(tmp_path, "x\n1\n2\n"))[0] == ["0"]
    np.save(tmp_path / "rows.npy", np.arange(6.0).reshape(3, 2))
    assert read_datasets(tmp_path / "rows.npy")[0] == ["0", "1", "2"]
    np.save(tmp_path / "one.npy", np.arange(6.0))
    assert read_datasets(tmp_path / "one.npy")[0] == ["0"]


def test_a_bad_value_in_a_npy_file_is_named_by_row_and_column_from_1(tmp_path):
    rows = np.zeros((3, 5))
    rows[1, 3] = np.nan
    np.save(tmp_path / "rows.npy", rows)
    assert error_of(tmp_path / "rows.npy").endswith(
        "rows.npy, row 2, column 4 (counted from 1): NaN or infinite value; remove it or replace it"
    )
    np.save(tmp_path / "one.npy", rows[1])
    assert "one.npy, value 4 (counted from 1)" in error_of(tmp_path / "one.npy")
