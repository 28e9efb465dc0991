"""Reading and writing experiment statistics: JSON lines, TensorBoard, folders."""
from __future__ import annotations

import json
import os
import shutil
from typing import Any, Dict, List


def dict_to_json(dict: Dict[str, Any], fname: str) -> None:
    """Append ``dict`` to ``fname`` as one line of JSON.

    Args:
        dict (dict): the statistics to write (JSON-serialisable values).
        fname (str): the output file; created if missing.
    """
    with open(fname, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(dict) + "\n")


def dict_list_to_json(dict_list: List[Dict[str, Any]], fname: str) -> None:
    """Write a list of dicts to ``fname``, one JSON line each (the file is replaced).

    Args:
        dict_list (list of dict): the records.
        fname (str): the output file.
    """
    with open(fname, "w", encoding="utf-8") as handle:
        for record in dict_list:
            handle.write(json.dumps(record) + "\n")


def json_to_dict_list(fname: str) -> List[Dict[str, Any]]:
    """Read a file of JSON lines (as written by :func:`dict_to_json`) into a list."""
    records = []
    with open(fname, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{fname}:{number}: not a JSON line ({error})") from None
    return records


def dict_to_tb(dict: Dict[str, Any], writer, epoch: int) -> None:
    """Add every numeric entry of ``dict`` as a TensorBoard scalar at step ``epoch``.

    Args:
        dict (dict): statistics; keys are the scalar names.
        writer (SummaryWriter): the TensorBoard writer.
        epoch (int): the step.
    """
    for name, value in dict.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            writer.add_scalar(name, value, epoch)


def dict_list_to_tb(dict_list: List[Dict[str, Any]], writer) -> None:
    """Add a list of per-epoch statistics (each with an ``epoch`` entry) to TensorBoard."""
    for record in dict_list:
        if "epoch" not in record:
            raise ValueError(f"dict_list_to_tb: record {record} has no 'epoch'")
        dict_to_tb(record, writer, record["epoch"])


def makedirs_rm_exist(dir: str) -> None:
    """Create the folder ``dir``, deleting it first if it exists.

    Args:
        dir (str): the folder.
    """
    if os.path.isdir(dir):
        shutil.rmtree(dir)
    os.makedirs(dir, exist_ok=True)
