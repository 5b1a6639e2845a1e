"""`npx serverless package` offline, cfn-lint on its CloudFormation, and the packaged app itself.

Runs only where the pinned Node tools are installed (``npm ci``; CI has them). One packaging run
(about 30 s with a warm pip cache) is shared by every test in this module.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from skill.bench import package as bench

pytestmark = pytest.mark.skipif(
    not bench.SERVERLESS_BIN.exists(),
    reason="node_modules/.bin/serverless is missing: run `npm ci` (CI installs it)",
)

#: Warnings allowed in the generated template, each with its reason.
ALLOWED_WARNINGS = {
    # Serverless v3 writes both a DependsOn and a Ref from the HTTP API route to its integration.
    "W3005",
}
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of one `serverless package --stage dev` run."""
    out = tmp_path_factory.mktemp("serverless") / "package"
    bench.package_service(out, stage="dev", timeout_s=170)
    return out


@pytest.fixture(scope="module")
def template(packaged: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (packaged / "cloudformation-template-update-stack.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def unzipped(packaged: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bench.extract(packaged / "reflection-guide.zip", tmp_path_factory.mktemp("unzipped"))


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bench.runtime_shim(tmp_path_factory.mktemp("runtime"))


def _launch(locale: str) -> dict[str, Any]:
    application = {"applicationId": SKILL_ID}
    user = {"userId": "amzn1.ask.account.package-test"}
    return {
        "version": "1.0",
        "session": {"new": True, "sessionId": f"amzn1.echo-api.session.{uuid.uuid4()}",
                    "application": application, "user": user, "attributes": {}},
        "context": {"System": {
            "application": application, "user": user,
            "device": {"deviceId": "amzn1.ask.device.test",
                       "supportedInterfaces": {"AudioPlayer": {}}},
            "apiEndpoint": "https://api.amazonalexa.com"}},
        "request": {"type": "LaunchRequest", "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
                    "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "locale": locale},
    }


def test_cfn_lint_finds_no_errors(packaged: Path) -> None:
    """If cfn-lint checks the generated template, then it reports no errors and no unknown warnings."""
    template_path = packaged / "cloudformation-template-update-stack.json"
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
         "--format", "parseable", str(template_path)],
        capture_output=True, text=True, timeout=120, check=False)
    findings = [line.split(":")[5] for line in done.stdout.splitlines() if line.count(":") >= 6]
    assert done.returncode & 2 == 0, done.stdout + done.stderr
    assert not [rule for rule in findings if rule.startswith("E")], done.stdout
    assert set(findings) <= ALLOWED_WARNINGS, done.stdout


def test_template_has_the_function_api_table_bucket_and_cdn(template: dict[str, Any]) -> None:
    """If the template is read, then Lambda (python3.11), HTTP API, table, bucket and CloudFront exist."""
    resources = template["Resources"]
    types = {r["Type"] for r in resources.values()}
    assert {"AWS::Lambda::Function", "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Route",
            "AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::S3::BucketPolicy",
            "AWS::CloudFront::Distribution", "AWS::CloudFront::OriginAccessControl",
            "AWS::Logs::LogGroup", "AWS::IAM::Role"} <= types
    function = resources["SkillLambdaFunction"]["Properties"]
    assert function["Runtime"] == "python3.11"
    assert function["Handler"] == "wsgi_handler.handler"
    env = function["Environment"]["Variables"]
    assert all(name.startswith("REFLECT_") for name in env)
    assert env["REFLECT_SKILL_IDS"] == ""
    assert env["REFLECT_LOG_LEVEL"] == "DEBUG"
    assert resources["HttpApiRoutePost"]["Properties"]["RouteKey"] == "POST /"
    assert resources["SkillLogGroup"]["Properties"]["RetentionInDays"] == 14
    assert resources["UsersTable"]["DeletionPolicy"] == "Delete"
    assert "HttpApiUrl" in template["Outputs"]
    assert "AudioBaseUrl" in template["Outputs"]


def test_role_policy_touches_only_the_table_and_logs(template: dict[str, Any]) -> None:
    """If the generated role is read, then its only non-log statement is item access to the table."""
    role = template["Resources"]["IamRoleLambdaExecution"]["Properties"]
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    non_log = [s for s in statements if not all(a.startswith("logs:") for a in s["Action"])]
    assert non_log == [{"Effect": "Allow",
                        "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
                        "Resource": {"Fn::GetAtt": ["UsersTable", "Arn"]}}]


def test_zip_holds_runtime_code_only(packaged: Path) -> None:
    """If the zip is listed, then it has the app and its dependencies, and no dev files or boto3."""
    with zipfile.ZipFile(packaged / "reflection-guide.zip") as archive:
        names = archive.namelist()
    tops = {name.split("/")[0] for name in names}
    for present in ("wsgi_handler.py", "serverless_wsgi.py", ".serverless-wsgi", "skill", "flask",
                    "ask_sdk_core", "cryptography", "audio"):
        assert present in tops, present
    for absent in ("tests", "docs", "data", "scripts", "node_modules", ".venv", "interaction_models",
                   "skill-package", "boto3", "botocore", "serverless.yml", "pyproject.toml"):
        assert absent not in tops, absent
    assert [n for n in names if n.startswith("audio/")] == ["audio/manifest.json"]
    assert not [n for n in names if n.endswith((".mp3", ".pyc"))]
    for dev_only in ("skill/bench/", "skill/deploy/", "skill/simulator/", "skill/audio/"):
        assert not [n for n in names if n.startswith(dev_only)], dev_only
    assert "skill/wsgi.py" in names
    assert bench.unzipped_size(packaged / "reflection-guide.zip") < bench.LAMBDA_LIMIT_BYTES


def test_packaged_app_refuses_unsigned_requests(unzipped: Path, shim: Path) -> None:
    """If the packaged handler gets an unsigned request, then the app answers 400 verification failed."""
    result = bench.invoke_packaged(unzipped, shim, bench.http_api_event(_launch("en-US")))
    assert result["app"] == "Flask"
    assert result["response"]["statusCode"] == 400
    assert "verification failed" in result["response"]["body"]


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_packaged_app_answers_a_launch(unzipped: Path, shim: Path, tmp_path: Path,
                                       locale: str) -> None:
    """If the packaged app runs with local settings, then a LaunchRequest gets spoken SSML (200)."""
    extra = {"REFLECT_DEV_SKIP_VERIFICATION": "1", "REFLECT_STORAGE": "sqlite",
             "REFLECT_DB_PATH": str(tmp_path / "package.sqlite3")}
    result = bench.invoke_packaged(unzipped, shim, bench.http_api_event(_launch(locale)), extra)
    response = result["response"]
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert body["response"]["outputSpeech"]["ssml"].startswith("<speak>")
