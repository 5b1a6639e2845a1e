"""serverless.yml, read as data: runtime, stages, settings, resources, IAM and packaging rules."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from skill.config import Settings
from skill.deploy import requirements
from skill.deploy.serverless_config import load_serverless_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return load_serverless_config()


def _resources(config: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, Any] = config["resources"]["Resources"]
    return resources


def test_framework_v3_and_plugins(config: dict[str, Any]) -> None:
    """If serverless.yml is read, then it pins Framework v3 and loads both plugins."""
    assert config["frameworkVersion"] == "3"
    assert config["plugins"] == ["serverless-wsgi", "serverless-python-requirements"]
    assert config["provider"]["name"] == "aws"


def test_npm_pins_the_exact_tool_versions() -> None:
    """If package.json is read, then serverless v3 and the plugins are pinned exactly."""
    dev = json.loads((REPO / "package.json").read_text(encoding="utf-8"))["devDependencies"]
    assert dev["serverless"] == "3.40.0"
    assert dev["serverless-wsgi"] == "3.1.0"
    assert dev["serverless-python-requirements"] == "6.1.2"


def test_runtime_matches_requires_python(config: dict[str, Any]) -> None:
    """If the runtime is compared with requires-python, then it is the supported minimum."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    minimum = re.fullmatch(r">=\s*(\d+)\.(\d+)", pyproject["project"]["requires-python"])
    assert minimum
    assert config["provider"]["runtime"] == f"python{minimum.group(1)}.{minimum.group(2)}"
    args = config["custom"]["pythonRequirements"]["pipCmdExtraArgs"]
    assert f"--python-version={minimum.group(1)}.{minimum.group(2)}" in args


def test_stages_and_parameters(config: dict[str, Any]) -> None:
    """If the params are read, then dev and prod exist and the skill id is a parameter."""
    params = config["params"]
    assert {"default", "dev", "prod"} <= set(params)
    assert "skillId" in params["default"]
    assert config["provider"]["stage"] == "${opt:stage, 'dev'}"
    assert params["prod"]["tableDeletionPolicy"] == "Retain"
    assert config["provider"]["logRetentionInDays"] == "${param:logRetentionDays}"
    assert params["default"]["logRetentionDays"] == 30


def test_lambda_environment_is_only_known_reflect_settings(config: dict[str, Any]) -> None:
    """If the Lambda environment is read, then every name is a REFLECT_* setting the app knows."""
    env = config["provider"]["environment"]
    known = {f"REFLECT_{name.upper()}" for name in Settings.__dataclass_fields__}
    assert set(env) <= known
    assert {"REFLECT_SKILL_IDS", "REFLECT_STORAGE", "REFLECT_DYNAMODB_TABLE",
            "REFLECT_DYNAMODB_REGION", "REFLECT_AUDIO_BASE_URL", "REFLECT_LOG_LEVEL"} <= set(env)
    assert env["REFLECT_STORAGE"] == "dynamodb"
    assert env["REFLECT_SKILL_IDS"] == "${param:skillId}"
    assert env["REFLECT_DYNAMODB_TABLE"] == {"Ref": "UsersTable"}
    assert "REFLECT_DEV_SKIP_VERIFICATION" not in env


def test_http_api_post_root_to_the_wsgi_app(config: dict[str, Any]) -> None:
    """If the function is read, then POST / on the HTTP API reaches skill.wsgi.app."""
    function = config["functions"]["skill"]
    assert function["handler"] == "wsgi_handler.handler"
    assert function["events"] == [{"httpApi": {"method": "POST", "path": "/"}}]
    assert config["custom"]["wsgi"]["app"] == "skill.wsgi.app"
    assert config["custom"]["wsgi"]["packRequirements"] is False


def test_users_table_properties(config: dict[str, Any]) -> None:
    """If the table is read, then it is on-demand, with TTL expires_at, PITR and SSE, keyed user_id."""
    from skill.storage.dynamodb import KEY, TTL_ATTRIBUTE

    table = _resources(config)["UsersTable"]
    props = table["Properties"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": KEY, "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": KEY, "AttributeType": "S"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}


def test_audio_bucket_is_private_and_served_by_cloudfront_with_oac(config: dict[str, Any]) -> None:
    """If the audio resources are read, then the bucket is private and only CloudFront (OAC) reads it."""
    resources = _resources(config)
    block = resources["AudioBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                     "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    statements = resources["AudioBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allow = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allow) == 1
    assert allow[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow[0]["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in allow[0]["Condition"]["StringEquals"]
    oac = resources["AudioOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert oac["OriginAccessControlOriginType"] == "s3"
    assert oac["SigningBehavior"] == "always"
    dist = resources["AudioDistribution"]["Properties"]["DistributionConfig"]
    assert dist["Origins"][0]["OriginAccessControlId"] == {
        "Fn::GetAtt": ["AudioOriginAccessControl", "Id"]}
    assert dist["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "https-only"
    assert config["provider"]["environment"]["REFLECT_AUDIO_BASE_URL"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": ["AudioDistribution", "DomainName"]}]]}


def test_iam_is_least_privilege(config: dict[str, Any]) -> None:
    """If the role is read, then it allows only item get/put/delete on the users table."""
    statements = config["provider"]["iam"]["role"]["statements"]
    assert statements == [{
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
        "Resource": {"Fn::GetAtt": ["UsersTable", "Arn"]},
    }]


def test_iam_covers_every_dynamodb_call_the_runtime_makes() -> None:
    """If the DynamoDB store's request path is scanned, then it calls only the allowed actions."""
    source = (REPO / "skill" / "storage" / "dynamodb.py").read_text(encoding="utf-8")
    runtime = source.split("\ndef create_table", 1)[0]
    runtime = re.sub(r"    def (ping|keys|scan_raw)\(.*?(?=\n    def |\Z)", "", runtime, flags=re.S)
    calls = set(re.findall(r"client\.(\w+)\(", runtime))
    assert {"get_item", "put_item"} <= calls <= {"get_item", "put_item", "delete_item"}, calls


def test_packaging_rules(config: dict[str, Any]) -> None:
    """If the package rules are read, then they allowlist runtime code and drop boto3 and dev files."""
    patterns = config["package"]["patterns"]
    assert patterns[0] == "!**"
    assert "skill/**" in patterns and "audio/manifest.json" in patterns
    for excluded in ("!skill/bench/**", "!skill/deploy/**", "!skill/audio/**", "!skill/simulator/**"):
        assert excluded in patterns
    py_reqs = config["custom"]["pythonRequirements"]
    assert {"boto3", "botocore"} <= set(py_reqs["noDeploy"])
    assert py_reqs["slim"] is True
    assert py_reqs["dockerizePip"] is False
    assert py_reqs["fileName"] == str(requirements.REQUIREMENTS_PATH.relative_to(REPO))
