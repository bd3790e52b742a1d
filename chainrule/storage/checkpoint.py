"""Checkpoints: an MLP's architecture and every parameter in a JSON file, saved atomically.

Loading reads JSON and nothing else (no pickle: a file never runs code), checks all of it, and only
then builds the model, so a bad file gives an error and never a half-loaded model.

A file carries "sha256": the SHA-256 of its content without that key, written canonically (json.dumps
with sort_keys=True, separators=(",", ":"), ensure_ascii=True, as UTF-8). A file whose content does not
match is damaged and refused, so a flipped bit never loads as another model. Version 1 files, saved
before there was a checksum, still load.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import random
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainrule.nn import MLP

try:
    import fcntl
except ImportError:  # Windows: a file another process holds open cannot be removed, which is lock enough
    fcntl = None  # type: ignore[assignment]

FORMAT = "chainrule-checkpoint"
VERSION = 2  # 2: with "sha256"; 1: without, still read
CHECKSUM = "sha256"
# JSON has no NaN or infinity; parameters that are not finite are written as these strings
_NOT_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_ARCHITECTURE = ("nin", "nouts", "activation", "output_activation")

PathLike = str | os.PathLike


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded: truncated, corrupted, of another format or architecture."""


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file holds: the model, and the JSON `info` saved with it (e.g. the step count)."""

    model: MLP
    info: dict[str, Any] = field(default_factory=dict)


def _encode(number: float) -> float | str:
    # repr-based JSON numbers round-trip every finite float bit-exactly (including -0.0)
    return number if math.isfinite(number) else repr(number)


def save(model: MLP, path: PathLike, info: Mapping[str, Any] | None = None) -> None:
    """Write model (architecture and parameters) and `info` (any JSON) to `path`, atomically.

    The file is written under a temporary name in the same directory, flushed and fsynced, then
    renamed over `path`: an interrupted save leaves the previous file as it was.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"save takes an MLP, got {type(model).__name__} (for any Module use state_dict())")
    if info is not None and not isinstance(info, Mapping):
        raise TypeError(f"info must be a mapping of names to plain JSON, got {type(info).__name__}")
    document = {
        "format": FORMAT,
        "version": VERSION,
        "model": "MLP",
        "architecture": {name: getattr(model, name) for name in _ARCHITECTURE},
        "parameters": {name: _encode(number) for name, number in model.state_dict().items()},
        "info": dict(info or {}),
    }
    try:  # the document as load will read it (tuples as lists, keys as strings), to be summed as such
        content = json.loads(json.dumps(document, allow_nan=False), object_pairs_hook=_unique_keys)
    except (TypeError, ValueError) as error:
        raise TypeError(f"info must hold plain JSON (numbers, strings, lists, dicts): {error}") from None
    text = json.dumps({**content, CHECKSUM: checksum(content)}, indent=1) + "\n"
    _write_atomically(Path(path), text)


def checksum(document: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of a checkpoint's content: the document without "sha256", written canonically."""
    content = {key: value for key, value in document.items() if key != CHECKSUM}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# A save writes `.NAME.<12 hex digits>.chainrule-tmp` beside NAME, locked (flock) until it is renamed
# over NAME. One left behind by a save that was killed is unlocked (the system drops a dead process's
# locks): the next save into the folder removes it, and nothing else.
_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{12}\.chainrule-tmp", re.DOTALL)


def _write_atomically(path: Path, text: str) -> None:
    directory = path.parent
    _remove_interrupted_saves(directory)
    descriptor, temporary = _locked_temporary(path)
    try:
        with open(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(temporary, path)  # still locked: no other save's sweep takes a file being written
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(directory)


def _locked_temporary(path: Path) -> tuple[int, Path]:
    """A new temporary file beside path, opened for writing and locked: (its descriptor, its path)."""
    while True:
        temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.chainrule-tmp"
        # O_EXCL: never write through someone else's file; 0o666 less the umask, as open() would give
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as error:  # name the file the caller asked for, not our temporary one
            raise type(error)(error.errno, error.strerror, str(path)) from None
        if fcntl is None:
            return descriptor, temporary
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        if os.fstat(descriptor).st_nlink:  # not swept away between its creation and the lock
            return descriptor, temporary
        os.close(descriptor)


def _remove_interrupted_saves(directory: Path) -> None:
    """Remove the temporary files of saves into `directory` that no running save holds (see _TEMPORARY)."""
    try:
        names = [entry.name for entry in os.scandir(directory) if _TEMPORARY.fullmatch(entry.name)]
    except OSError:
        return  # the save itself will name what is wrong with the folder
    for name in names:
        candidate = directory / name
        try:
            if fcntl is None:
                candidate.unlink()  # refused while a save has it open
                continue
            descriptor = os.open(candidate, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # OSError: a running save holds it
            if os.path.samestat(os.fstat(descriptor), os.stat(candidate, follow_symlinks=False)):
                candidate.unlink()
        except OSError:
            pass
        finally:
            os.close(descriptor)


def _sync_directory(directory: Path) -> None:
    """fsync the directory so the rename itself survives a power cut (POSIX; elsewhere a no-op)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def load(path: PathLike) -> MLP:
    """The MLP saved in `path`: CheckpointError naming the file and the fault if its content is bad,
    Python's OSError (FileNotFoundError, IsADirectoryError, ...) naming it if it cannot be read."""
    return read(path).model


def read(path: PathLike) -> Checkpoint:
    """The model and info saved in `path`, checked whole before anything is built."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
        document = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_refuse_constant)
        _check_sum(document)
    except UnicodeDecodeError as error:
        raise CheckpointError(f"{path}: not a text file ({error})") from None
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: not valid JSON, truncated or corrupted ({error})") from None
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from None
    except RecursionError:
        raise CheckpointError(f"{path}: not a chainrule checkpoint (JSON nested too deeply)") from None
    try:
        return _from_document(document)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: {error}") from None


def _check_sum(document: Any) -> None:
    """ValueError if the document's checksum does not match it, or a version 2 file has none."""
    if not isinstance(document, dict):
        return  # not a checkpoint at all: _from_document says so
    damaged = "the file is damaged: "
    if CHECKSUM in document:
        if document[CHECKSUM] != checksum(document):
            raise ValueError(
                f"{damaged}its content does not match the SHA-256 saved in it, so it changed after it was "
                "saved (a flipped bit, a bad copy, an edit); nothing was loaded. Use a copy you trust"
            )
    elif document.get("format") == FORMAT and document.get("version") == VERSION:
        raise ValueError(f"{damaged}a version {VERSION} checkpoint carries a SHA-256 and this one has none")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(
            f"a key appears twice in one object ({sorted({k for k in keys if keys.count(k) > 1})})"
        )
    return dict(pairs)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON (a saved parameter that is not finite is the string 'nan'/'inf')")


def _from_document(document: Any) -> Checkpoint:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'not a chainrule checkpoint (no "format": "{FORMAT}" at the top)')
    if document.get("version") not in (1, VERSION):
        raise ValueError(
            f"checkpoint version {document.get('version')!r}; this chainrule reads versions 1 and {VERSION}"
        )
    if document.get("model") != "MLP":
        raise ValueError(f"model {document.get('model')!r} is not one this chainrule can build (MLP)")
    architecture, parameters, info = (document.get(key) for key in ("architecture", "parameters", "info"))
    if not isinstance(architecture, dict) or sorted(architecture) != sorted(_ARCHITECTURE):
        raise ValueError(
            f"the architecture must give exactly {', '.join(_ARCHITECTURE)}; got {architecture!r}"
        )
    if not isinstance(parameters, dict) or not isinstance(info, dict):
        raise ValueError('"parameters" and "info" must be JSON objects')
    nin, nouts = architecture["nin"], architecture["nouts"]
    if not isinstance(nouts, list) or not all(_is_count(n) for n in [nin, *nouts]):
        raise ValueError(f"nin and nouts must be positive whole numbers, got nin={nin!r}, nouts={nouts!r}")
    sizes = [nin, *nouts]
    expected = sum((fan_in + 1) * fan_out for fan_in, fan_out in itertools.pairwise(sizes))
    if len(parameters) != expected:  # checked before building, so a forged shape cannot exhaust memory
        raise ValueError(
            f"MLP({nin}, {nouts}) has {expected} parameters but the file holds {len(parameters)}"
        )
    # a private generator: loading must not move the global random state (a resumed run would diverge)
    model = MLP(**architecture, rng=random.Random(0))
    model.load_state_dict({name: _decode(name, value) for name, value in parameters.items()})
    return Checkpoint(model, info)


def _is_count(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 1


def _decode(name: str, value: Any) -> float:
    if isinstance(value, str) and value in _NOT_FINITE:
        return _NOT_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"parameter {name} must be a number (or 'nan', 'inf', '-inf'), got {value!r}")
    try:
        return float(value)
    except OverflowError:  # a whole number too large for a float; JSON floats that large are already inf
        raise ValueError(f"parameter {name} is too large for a float: {value}") from None
