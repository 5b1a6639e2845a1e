"""Read ``serverless.yml`` as data: CloudFormation short tags become their long JSON forms.

``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B`` -> ``{"Fn::GetAtt": ["A", "B"]}``, any other
``!Name value`` -> ``{"Fn::Name": value}``. Serverless variables (``${...}``) stay plain strings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from skill.config import REPO_ROOT

SERVERLESS_YML = REPO_ROOT / "serverless.yml"


class _CfnLoader(yaml.SafeLoader):
    """A safe loader that also accepts CloudFormation's short-form intrinsic functions."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_serverless_config(path: Path = SERVERLESS_YML) -> dict[str, Any]:
    """``serverless.yml`` as a dict (variables unresolved).

    :raises ValueError: if the file is not a YAML mapping.
    """
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - safe subclass
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return data
