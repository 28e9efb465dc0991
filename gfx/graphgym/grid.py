"""Grid search: one config file per point of a grid over a base config.

A grid file has one option per line: ``<config key> <alias> <list of values>``, e.g.
``gnn.layers_mp l_mp [2,4,6]``; ``#`` starts a comment.  Blocks separated by blank lines
are searched separately and their points joined.  Point ``l_mp=4, lr=0.01`` of base
``node.yaml`` becomes ``node-l_mp=4-lr=0.01.yaml``; all points write their results under
``<base out_dir>/<base>_grid_<grid>/``, which :func:`~gfx.graphgym.agg_batch` reads.
"""
from __future__ import annotations

import ast
import copy
import itertools
import os
import random
from typing import Any, Dict, List, Optional, Tuple

import yaml

from gfx.graphgym.config import (CONFIG_DIR, cfg, get_fname, merge_dict,
                                        resolve_cfg_file, set_cfg)
from gfx.graphgym.utils.io import makedirs_rm_exist
from gfx.graphgym.utils.tools import is_global_zero

GridLine = Tuple[str, str, List[Any]]


def resolve_grid_file(name: str) -> str:
    """``name`` if it is a file, else the built-in grid file ``configs/<name>.txt``."""
    if os.path.isfile(name):
        return name
    stem = name[:-4] if name.endswith(".txt") else name
    path = os.path.join(CONFIG_DIR, f"{stem}.txt")
    if os.path.sep not in name and os.path.isfile(path):
        return path
    raise FileNotFoundError(f"--grid: '{name}' is neither a file nor a built-in grid")


def parse_grid(path: str) -> List[List[GridLine]]:
    """The blocks of a grid file, each a list of ``(key, alias, values)``."""
    blocks: List[List[GridLine]] = [[]]
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                if blocks[-1]:
                    blocks.append([])
                continue
            parts = line.split(None, 2)
            if len(parts) != 3:
                raise ValueError(f"{path}:{number}: expected '<key> <alias> [values]', got "
                                 f"{line!r}")
            key, alias, text = parts
            try:
                values = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise ValueError(f"{path}:{number}: the values of '{key}' are not a Python "
                                 f"list: {text!r}") from None
            if not isinstance(values, list) or not values:
                raise ValueError(f"{path}:{number}: the values of '{key}' must be a "
                                 f"non-empty list, got {text!r}")
            blocks[-1].append((key, alias, values))
    return [b for b in blocks if b]


def grid_points(blocks: List[List[GridLine]]) -> List[List[Tuple[str, str, Any]]]:
    """Every point of every block: lists of ``(key, alias, value)``."""
    points = []
    for block in blocks:
        for values in itertools.product(*(line[2] for line in block)):
            points.append([(key, alias, value)
                           for (key, alias, _), value in zip(block, values)])
    return points


def _value_name(value: Any) -> str:
    return str(value).replace(" ", "") if not isinstance(value, str) else value


def _set_nested(tree: Dict[str, Any], key: str, value: Any) -> None:
    *groups, last = key.split(".")
    for group in groups:
        tree = tree.setdefault(group, {})
    tree[last] = value


def generate_configs(base: str, grid: str, config_dir: Optional[str] = None,
                     sample: Optional[int] = None, seed: int = 0) -> Tuple[str, List[str]]:
    """Write one config per grid point; returns ``(results folder, config paths)``.

    Args:
        base (str): the base config (file or built-in name).
        grid (str): the grid file.
        config_dir (str, optional): where to write the configs. (default:
            ``configs/<base>_grid_<grid>``)
        sample (int, optional): keep a random sample of this many points.
            (default: ``None``, all)
        seed (int, optional): seed of the sample. (default: ``0``)
    """
    base_path, grid = resolve_cfg_file(base), resolve_grid_file(grid)
    with open(base_path, encoding="utf-8") as handle:
        base_values = yaml.safe_load(handle) or {}
    name, grid_name = get_fname(base_path), os.path.splitext(os.path.basename(grid))[0]
    config_dir = config_dir or os.path.join("configs", f"{name}_grid_{grid_name}")
    batch_dir = os.path.join(base_values.get("out_dir", "results"), f"{name}_grid_{grid_name}")
    points = grid_points(parse_grid(grid))
    if sample is not None and sample < len(points):
        points = random.Random(seed).sample(points, sample)
    files: Dict[str, Dict[str, Any]] = {}
    for point in points:
        values = copy.deepcopy(base_values)
        for key, _, value in point:
            _set_nested(values, key, value)
        values["out_dir"] = batch_dir
        fname = "-".join([name] + [f"{alias}={_value_name(v)}" for _, alias, v in point])
        files[os.path.join(config_dir, f"{fname}.yaml")] = values
    schema = cfg.clone()
    for path, values in files.items():  # fail early, naming the grid's bad key
        merge_dict(set_cfg(schema), values, f"grid point '{os.path.basename(path)}'")
    if is_global_zero():
        makedirs_rm_exist(config_dir)
        for path, values in files.items():
            with open(path, "w", encoding="utf-8") as handle:
                yaml.safe_dump(values, handle, sort_keys=False)
    return batch_dir, list(files)
