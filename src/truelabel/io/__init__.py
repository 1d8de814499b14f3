"""Reading, validating and writing: tables, the Dataset and the run directory."""

from ._dataset import Dataset, encode_labels, load_dataset
from ._labels import canonical_labels, check_label_types
from ._readers import load_array, read_table
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

__all__ = [
    "Dataset",
    "RunDir",
    "canonical_labels",
    "check_label_types",
    "check_out_dir",
    "check_out_file",
    "encode_labels",
    "is_run_dir",
    "load_array",
    "load_dataset",
    "output_file_kind",
    "read_table",
    "run_kind",
    "to_jsonable",
    "write_atomic",
    "write_table_file",
]
