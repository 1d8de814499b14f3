"""Reading, validating and writing: tables, the Dataset, token data and the run directory."""

from ._dataset import Dataset, encode_labels, load_dataset
from ._labels import canonical_labels, check_label_types
from ._readers import TextTableFormat, load_array, read_table, sniff_text_table, text_table_format
from ._rundir import (
    RunDir,
    check_out_dir,
    check_out_file,
    is_run_dir,
    output_file_kind,
    run_kind,
    to_jsonable,
    write_atomic,
    write_table_file,
)
from ._tokens import TokenDataset, load_conll, load_span_table, parse_conll

__all__ = [
    "Dataset",
    "RunDir",
    "TextTableFormat",
    "TokenDataset",
    "canonical_labels",
    "check_label_types",
    "check_out_dir",
    "check_out_file",
    "encode_labels",
    "is_run_dir",
    "load_array",
    "load_conll",
    "load_dataset",
    "load_span_table",
    "parse_conll",
    "output_file_kind",
    "read_table",
    "run_kind",
    "sniff_text_table",
    "text_table_format",
    "to_jsonable",
    "write_atomic",
    "write_table_file",
]
