"""``PyGModelHubMixin``: save a model to a folder (or the Hugging Face hub) and load it back.

# NOTE [model hub layout]
A saved model is a folder with three files: ``model.pth`` (the ``state_dict``),
``config.json`` (the JSON-serialisable entries of ``model_kwargs``; tensors and other
objects are left out and must be passed again to :meth:`from_pretrained`) and
``README.md`` (a short model card naming the model and the dataset).  Local folders need
nothing beyond torch; pushing to and downloading from the hub needs the optional
``huggingface_hub`` package.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch

CONFIG_NAME = "config.json"
MODEL_WEIGHTS_NAME = "model.pth"
MODEL_CARD_NAME = "README.md"


def _require_hub(what: str):
    try:
        import huggingface_hub
    except ImportError as err:
        raise ImportError(f"PyGModelHubMixin: {what} needs the optional package "
                          f"'huggingface_hub' (pip install huggingface_hub); saving to and "
                          f"loading from a local folder works without it") from err
    return huggingface_hub


def _is_json_value(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


class PyGModelHubMixin:
    """A mixin that saves and loads models (see NOTE [model hub layout]).

    Mix it into a model class whose ``__init__`` takes ``(model_name, dataset_name,
    model_kwargs)`` and calls ``PyGModelHubMixin.__init__`` with them::

        class N2V(Node2Vec, PyGModelHubMixin):
            def __init__(self, model_name, dataset_name, model_kwargs):
                Node2Vec.__init__(self, **model_kwargs)
                PyGModelHubMixin.__init__(self, model_name, dataset_name, model_kwargs)

        model.save_pretrained("folder")
        model = N2V.from_pretrained("folder", model_name="node2vec", dataset_name="Cora",
                                    edge_index=edge_index)

    Args:
        model_name (str): name of the model.
        dataset_name (str): name of the dataset it was trained on.
        model_kwargs (Dict[str, Any]): the arguments that build the model.
    """

    def __init__(self, model_name: str, dataset_name: str, model_kwargs: Dict[str, Any]):
        if not isinstance(model_name, str):
            raise TypeError(f"PyGModelHubMixin: 'model_name' must be a str, got "
                            f"{type(model_name).__name__}")
        if not isinstance(dataset_name, str):
            raise TypeError(f"PyGModelHubMixin: 'dataset_name' must be a str, got "
                            f"{type(dataset_name).__name__}")
        if not isinstance(model_kwargs, dict):
            raise TypeError(f"PyGModelHubMixin: 'model_kwargs' must be a dict, got "
                            f"{type(model_kwargs).__name__}")
        self.model_name = model_name
        self.dataset_name = dataset_name
        self.model_config = {k: v for k, v in model_kwargs.items() if _is_json_value(v)}

    def _model_card(self) -> str:
        return (f"---\nlibrary_name: gfx\ntags:\n- {self.model_name}\n- "
                f"{self.dataset_name}\n---\n\n# {self.model_name}\n\n"
                f"A `{type(self).__name__}` model trained on `{self.dataset_name}`, saved "
                f"with gfx. Load it with `{type(self).__name__}.from_pretrained`.\n")

    def save_pretrained(self, save_directory: Union[str, Path], push_to_hub: bool = False,
                        repo_id: Optional[str] = None, **kwargs) -> Optional[str]:
        """Save the model to a local folder, and optionally push it to the hub.

        Args:
            save_directory (str or Path): folder to write (created if needed).
            push_to_hub (bool, optional): also upload the folder to the hub (needs
                ``huggingface_hub``). (default: ``False``)
            repo_id (str, optional): hub repository; ``None`` uses the folder's name.
                (default: ``None``)
            **kwargs: arguments of ``huggingface_hub.HfApi.upload_folder`` when pushing.

        Returns:
            the commit URL when pushed, else ``None``.
        """
        if not isinstance(self, torch.nn.Module):
            raise TypeError(f"{type(self).__name__}: PyGModelHubMixin needs a "
                            f"torch.nn.Module subclass to save")
        folder = Path(save_directory)
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"save_pretrained: 'save_directory' {str(folder)!r} exists and "
                             f"is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(self.state_dict(), folder / MODEL_WEIGHTS_NAME)
        with open(folder / CONFIG_NAME, "w") as f:
            json.dump(self.model_config, f, indent=2, sort_keys=True)
        (folder / MODEL_CARD_NAME).write_text(self._model_card())
        if not push_to_hub:
            return None
        hub = _require_hub("push_to_hub=True")
        repo_id = repo_id or folder.name
        api = hub.HfApi(token=kwargs.pop("token", None))
        api.create_repo(repo_id=repo_id, exist_ok=True, private=kwargs.pop("private", None))
        return api.upload_folder(repo_id=repo_id, folder_path=str(folder), **kwargs)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str,
                        force_download: bool = False,
                        token: Optional[Union[str, bool]] = None,
                        cache_dir: Optional[str] = None, local_files_only: bool = False,
                        **model_kwargs) -> Any:
        """Build the model and load its saved weights, from a folder or a hub repository.

        Args:
            pretrained_model_name_or_path (str): a local folder written by
                :meth:`save_pretrained`, or a hub ``model_id`` (``id@revision`` picks
                a revision; needs ``huggingface_hub``).
            force_download (bool, optional): download again even if cached.
                (default: ``False``)
            token (str or bool, optional): hub token for private models.
                (default: ``None``)
            cache_dir (str, optional): download cache folder. (default: ``None``)
            local_files_only (bool, optional): never download. (default: ``False``)
            **model_kwargs: ``model_name``, ``dataset_name`` and the model arguments that
                were not saved (tensors, ...); they override the saved config.
        """
        path = str(pretrained_model_name_or_path)
        if os.path.isdir(path):
            config_file = os.path.join(path, CONFIG_NAME)
            weights_file = os.path.join(path, MODEL_WEIGHTS_NAME)
            if not os.path.isfile(weights_file):
                raise FileNotFoundError(f"from_pretrained: no {MODEL_WEIGHTS_NAME} in "
                                        f"folder {path!r}")
        else:
            hub = _require_hub(f"loading {path!r} (not a local folder)")
            repo_id, _, revision = path.partition("@")
            opts = dict(repo_id=repo_id, revision=revision or None, cache_dir=cache_dir,
                        force_download=force_download, token=token,
                        local_files_only=local_files_only)
            weights_file = hub.hf_hub_download(filename=MODEL_WEIGHTS_NAME, **opts)
            try:
                config_file = hub.hf_hub_download(filename=CONFIG_NAME, **opts)
            except Exception:  # a repository without a config: arguments come from kwargs
                config_file = None
        config: Dict[str, Any] = {}
        if config_file is not None and os.path.isfile(config_file):
            with open(config_file) as f:
                config = json.load(f)
        for key in ("model_name", "dataset_name"):
            if key not in model_kwargs:
                raise TypeError(f"{cls.__name__}.from_pretrained: missing keyword argument "
                                f"{key!r}")
        model_name = model_kwargs.pop("model_name")
        dataset_name = model_kwargs.pop("dataset_name")
        config.update(model_kwargs)
        model = cls(model_name, dataset_name, config)
        state = torch.load(weights_file, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        model.eval()
        return model


__all__ = ["PyGModelHubMixin"]
