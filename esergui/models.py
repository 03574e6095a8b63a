"""The model registry: the bundled model plus every trained or imported model of a workspace,
which one is active, export and import of model files.

Rows live in the workspace database's ``models`` table through the workspace API
(:meth:`esergui.workspace.Workspace.register_model` and friends); the ``figures`` JSON column
holds this module's summary (headline figures, data summary, starting model, file checksum).
Model files of a workspace live in ``<workspace>/models/``; the registry stores their absolute
path and finds them in that folder again when the workspace was moved. The bundled model is
not a row: it is always listed, under the reserved name :data:`BUNDLED`, and is active when
the workspace names no other model.

Every file is verified before it is registered, switched to or exported: the model layer's
loader checks the SHA-256 over metadata and tensors and builds the network (safetensors; no
pickled code is ever executed); a tampered, truncated or foreign file raises
:class:`ModelRegistryError` with a one-sentence reason.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esergui.errors import EserError, WorkspaceError, os_problem
from model.errors import ModelError

if TYPE_CHECKING:
    from esergui.workspace import Workspace

BUNDLED = "bundled"
MODEL_SUFFIX = ".safetensors"
_BUNDLED_CACHE: dict[tuple[str, int, int], ModelInfo] = {}


class ModelRegistryError(EserError):
    """A model cannot be registered, switched to, exported or imported."""


def bundled_model_path() -> Path | None:
    """The bundled model file (:func:`model.inference.bundled_model_path`), or ``None`` when
    this installation lacks it (a damaged install; the app then says so)."""
    from model.inference import bundled_model_path as bundled  # imports torch: only when asked

    path = bundled()
    return path if path.is_file() else None


@dataclass(frozen=True)
class ModelInfo:
    """One registry entry as the app shows it. ``path``: the model file (``None`` when the
    bundled model is not installed); ``figures``: headline figures such as ``{"ua": 0.81,
    "wa": 0.83, "n": 97}`` with ``"on"`` saying on what data (``"entry"``: the model file's
    evaluation key they come from); ``data``: a one-line summary
    of the training data; ``base``: the model it was fine-tuned from."""

    name: str
    path: Path | None
    bundled: bool
    created: str
    labels: tuple[str, ...]
    data: str = ""
    figures: Mapping[str, Any] = field(default_factory=dict)
    base: str | None = None
    active: bool = False

    def figures_text(self) -> str:
        f = self.figures
        if "ua" not in f:
            return "no figures"
        text = f"UA {100 * f['ua']:.1f} %"
        if "wa" in f:
            text += f", WA {100 * f['wa']:.1f} %"
        return text + (f" ({f['on']})" if f.get("on") else "")


def verify_model_file(path: str | Path) -> dict[str, Any]:
    """Verify a model file (checksum, format, network shape) and return its metadata.
    Raises :class:`ModelRegistryError` with the model layer's one-sentence reason."""
    from model.io import load_model

    try:
        bundle = load_model(path, "cpu")
    except ModelError as exc:
        raise ModelRegistryError(str(exc)) from None
    return {
        "name": bundle.name,
        "labels": list(bundle.labels),
        "variant": bundle.model_config.variant,
        "normalisation": bundle.feature_config.normalisation,
        **bundle.metadata,
    }


def summarise_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The registry's summary of a model file's metadata: ``figures``, ``data``, ``base``, ``date``
    (empty where the metadata is not shaped as this program writes it: it is only shown)."""
    try:
        return _summarise(meta)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError):
        return {"figures": {}, "data": "", "base": None, "date": ""}


def _summarise(meta: Mapping[str, Any]) -> dict[str, Any]:
    retr = meta.get("retraining") or {}
    training = meta.get("training") or {}
    figures: dict[str, Any] = {}
    val = retr.get("validation")
    if isinstance(val, Mapping) and "ua" in val:
        figures = {
            "ua": val["ua"],
            "wa": val.get("wa"),
            "n": val.get("n"),
            "on": f"validation, {retr.get('split', '')}".rstrip(", "),
        }
        base = retr.get("base_validation")
        if isinstance(base, Mapping) and "ua" in base:
            figures["base_ua"], figures["base_wa"] = base["ua"], base.get("wa")
    else:
        figures = _find_figures(
            meta.get("evaluation"),
            str(meta.get("variant", "esernet")),
            str(meta.get("normalisation", "global")),
            meta.get("recipe"),
        )
    data = retr.get("data") or {}
    if data:
        text = f"{data.get('clips', '?')} clips, {data.get('speakers', '?')} speakers, {len(data.get('labels', {}))} labels"
        if data.get("source"):
            text += f" ({data['source']})"
    elif training:
        n = training.get("n_train", 0) + training.get("n_val", 0)
        spk = len(set(training.get("train_speakers", [])) | set(training.get("val_speakers", [])))
        text = f"{n} clips, {spk} speakers" if n else ""
    else:
        text = ""
    return {
        "figures": {k: v for k, v in figures.items() if v is not None},
        "data": text,
        "base": retr.get("base") or training.get("fine_tuned_from"),
        "date": training.get("date", ""),
    }


#: What each cross-validation protocol of a model's ``evaluation`` block means, for people.
PROTOCOL_TEXT = {
    "speaker-pairs": "unseen speakers, 5 folds of speaker pairs",
    "loso": "unseen speakers, leave one speaker out",
    "sessions": "unseen sessions, leave one session out",
    "random10": "a random 10-fold split, speakers shared (optimistic)",
}


def _find_figures(
    ev: Any, variant: str = "esernet", normalisation: str = "global", recipe: Any = None
) -> dict[str, Any]:
    """Headline ``ua``/``wa`` from a model file's ``evaluation`` block: its own top-level
    figures, else those of its own recipe (``<variant>/<protocol>`` entries, or
    ``<variant>-spknorm/<protocol>`` for a speaker-normalised model; the speaker-independent
    protocols first, the clean condition), never another method's or recipe's (such as the
    baseline's, or the globally normalised variant's)."""
    if not isinstance(ev, Mapping):
        return {}
    if isinstance(ev.get("ua"), (int, float)):
        return {"ua": float(ev["ua"]), "wa": ev.get("wa"), "n": ev.get("n"), "on": str(ev.get("protocol", ""))}
    order = ("speaker-pairs", "loso", "sessions", "random10")
    from model.config import recipe_name

    # a model names its recipe (model/recipes.py) since recipe 2; older files are found by variant
    recipe = str(recipe) if isinstance(recipe, str) and recipe else recipe_name(variant, normalisation)

    def protocol_rank(key: str) -> int:  # "<recipe>/<protocol>[-s<seed>]": seed 0 first
        protocol = key.split("/", 1)[1].split("-s")[0]
        return order.index(protocol) if protocol in order else len(order)

    keys = sorted(
        (k for k in ev if str(k).startswith(f"{recipe}/") and isinstance(ev[k], Mapping)),
        key=lambda k: (protocol_rank(k), k),
    )
    for key in keys:
        entry = ev[key]
        clean = entry.get("clean", entry)
        if isinstance(clean, Mapping) and isinstance(clean.get("ua"), (int, float)):
            protocol = key.split("/", 1)[1].split("-s")[0]
            return {
                "ua": float(clean["ua"]),
                "wa": clean.get("wa"),
                "n": clean.get("n"),
                "on": f"cross-validated on {PROTOCOL_TEXT.get(protocol, protocol)}; clean speech",
                "entry": key,
            }
    return {}


class ModelRegistry:
    """The models of one workspace (see the module docstring)."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    @property
    def models_dir(self) -> Path:
        return self.ws.folder / "models"

    # ------------------------------------------------------------------ reading
    def models(self) -> list[ModelInfo]:
        """The bundled model first, then the workspace's models in the order they were added."""
        active = self.ws.get_setting("active_model")
        out = [self._bundled(active is None)]
        for entry in self.ws.models():
            if entry.path is None:
                continue  # a bundled row written by other code: listed above already
            extra = dict(entry.figures)
            out.append(
                ModelInfo(
                    entry.name,
                    self._resolve(entry.path),
                    False,
                    entry.created,
                    tuple(entry.labels),
                    str(extra.get("data", "")),
                    dict(extra.get("figures", {})),
                    extra.get("base"),
                    entry.name == active,
                )
            )
        return out

    def get(self, name: str) -> ModelInfo:
        for info in self.models():
            if info.name == name:
                return info
        raise ModelRegistryError(f"There is no model named {name!r} in this workspace.")

    def active(self) -> ModelInfo:
        infos = self.models()
        return next((info for info in infos if info.active), infos[0])

    def active_path(self) -> Path | None:
        """The file of the workspace's active model (``None``: no bundled model installed)."""
        return self.active().path

    def _bundled(self, active: bool) -> ModelInfo:
        path = bundled_model_path()
        if path is None:
            return ModelInfo(BUNDLED, None, True, "", (), "not installed", {}, None, active)
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        info = _BUNDLED_CACHE.get(key)
        if info is None:  # verified once per file version (building the network takes a moment)
            try:
                meta = verify_model_file(path)
            except ModelRegistryError as exc:
                return ModelInfo(BUNDLED, path, True, "", (), f"damaged: {exc}", {}, None, active)
            s = summarise_meta(meta)
            info = ModelInfo(
                BUNDLED,
                path,
                True,
                s["date"],
                tuple(meta["labels"]),
                s["data"] or "EmoDB",
                s["figures"],
                s["base"],
                False,
            )
            _BUNDLED_CACHE.clear()
            _BUNDLED_CACHE[key] = info
        return replace(info, active=active)

    def _resolve(self, stored: str) -> Path:
        path = Path(stored)
        if not path.is_absolute():
            return self.ws.folder / path
        if not path.is_file() and (self.models_dir / path.name).is_file():
            return self.models_dir / path.name  # the workspace folder was moved
        return path

    # ------------------------------------------------------------------ changing
    def unique_name(self, wanted: str) -> str:
        """``wanted`` (trimmed), or ``wanted (2)``, ``(3)``... when taken."""
        wanted = " ".join(wanted.split()) or "model"
        taken = {info.name.lower() for info in self.models()}
        name, k = wanted, 2
        while name.lower() in taken:
            name, k = f"{wanted} ({k})", k + 1
        return name

    def check_name(self, name: str) -> str:
        """Validate a new model name; returns it trimmed."""
        name = " ".join(name.split())
        if not name:
            raise ModelRegistryError("Give the model a name.")
        if name.lower() == BUNDLED:
            raise ModelRegistryError(f"{BUNDLED!r} is reserved for the bundled model; choose another name.")
        if any(info.name.lower() == name.lower() for info in self.models()):
            raise ModelRegistryError(f"A model named {name!r} already exists; choose another name.")
        return name

    def new_model_path(self, name: str) -> Path:
        from esergui.retrain import slug

        self.models_dir.mkdir(parents=True, exist_ok=True)
        return self.models_dir / f"{slug(name)}{MODEL_SUFFIX}"

    def register(self, path: str | Path, name: str) -> ModelInfo:
        """Register a verified model file that already lies in :attr:`models_dir`."""
        name = self.check_name(name)
        path = Path(path).absolute()
        meta = verify_model_file(path)
        s = summarise_meta(meta)
        try:
            self.ws.register_model(
                name, str(path), meta["labels"], {"figures": s["figures"], "data": s["data"], "base": s["base"]}
            )
        except WorkspaceError as exc:
            raise ModelRegistryError(str(exc)) from None
        return self.get(name)

    def import_file(self, source: str | Path, name: str | None = None) -> ModelInfo:
        """Verify ``source`` and copy it into the workspace under ``name`` (default: the name in
        the file, made unique). The copy is verified again before it is registered."""
        source = Path(source)
        meta = verify_model_file(source)
        name = self.check_name(name) if name is not None else self.unique_name(str(meta.get("name") or source.stem))
        target = self.new_model_path(name)
        tmp = target.with_name(f".{target.name}.part")
        try:
            shutil.copyfile(source, tmp)
            verify_model_file(tmp)
            tmp.replace(target)
        except OSError as exc:
            raise ModelRegistryError(f"Cannot copy {source.name} into the workspace ({os_problem(exc)}).") from None
        finally:
            tmp.unlink(missing_ok=True)
        return self.register(target, name)

    def export(self, name: str, destination: str | Path) -> Path:
        """Copy a model's file to ``destination`` (a file, or a folder to put it in) after
        verifying it; returns the written path (itself verified). When the model's name here
        differs from the name inside the file, the copy is re-written with this name."""
        info = self.get(name)
        if info.path is None:
            raise ModelRegistryError("The bundled model is not installed, so it cannot be exported.")
        meta = verify_model_file(info.path)
        dest = Path(destination)
        if dest.is_dir():
            dest = dest / (info.path.name if info.bundled else f"{self._file_stem(name)}{MODEL_SUFFIX}")
        elif dest.suffix != MODEL_SUFFIX:
            dest = dest.with_name(dest.name + MODEL_SUFFIX)
        tmp = dest.with_name(f".{dest.name}.part")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            if info.bundled or meta.get("name") == name:
                shutil.copyfile(info.path, tmp)
            else:  # the name it has here travels with the file
                from model.io import load_model, save_model

                bundle = load_model(info.path, "cpu")
                bundle.metadata["name"] = name
                save_model(bundle, tmp)
            verify_model_file(tmp)
            tmp.replace(dest)
        except OSError as exc:
            raise ModelRegistryError(f"Cannot write {dest} ({os_problem(exc)}).") from None
        except ModelError as exc:
            raise ModelRegistryError(str(exc)) from None
        finally:
            tmp.unlink(missing_ok=True)  # a full disk leaves no partial model file behind
        return dest

    @staticmethod
    def _file_stem(name: str) -> str:
        import re

        return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "model"

    def set_active(self, name: str) -> ModelInfo:
        """Make ``name`` (or :data:`BUNDLED`) the workspace's active model, after verifying its file."""
        info = self.get(name)
        if info.path is None:
            raise ModelRegistryError("The bundled model is not installed; choose a trained model.")
        verify_model_file(info.path)
        self.ws.set_active_model(None if info.bundled else info.name)
        return self.get(name)

    def remove(self, name: str) -> None:
        """Forget a model; its file is deleted when it lies in the workspace's ``models/``
        folder. The bundled model cannot be removed; removing the active one activates the
        bundled model."""
        info = self.get(name)
        if info.bundled:
            raise ModelRegistryError("The bundled model cannot be removed.")
        self.ws.remove_model(name)
        if info.path is not None and info.path.parent.resolve() == self.models_dir.resolve():
            info.path.unlink(missing_ok=True)


def active_model_path(workspace: Workspace | None) -> Path | None:
    """The model file to analyse with in ``workspace`` (the bundled one without a workspace)."""
    if workspace is None:
        return bundled_model_path()
    return ModelRegistry(workspace).active_path()
