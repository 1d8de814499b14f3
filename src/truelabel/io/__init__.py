"""Reading, validating and writing: tables, the Dataset, token data and the run directory."""

from ._dataset import Dataset, encode_labels, load_dataset
from ._readers import load_array, read_table
from ._rundir import RunDir, check_out_dir, is_run_dir, to_jsonable, write_atomic
from ._tokens import TokenDataset, load_conll, load_span_table, parse_conll

__all__ = [
    "Dataset",
    "RunDir",
    "TokenDataset",
    "check_out_dir",
    "encode_labels",
    "is_run_dir",
    "load_array",
    "load_conll",
    "load_dataset",
    "load_span_table",
    "parse_conll",
    "read_table",
    "to_jsonable",
    "write_atomic",
]
