"""`chalice package` merged with the infrastructure template: what deploys is wired as meant.

cfn-lint checks the same output for errors (``make cfn-lint``, part of ``make test``); this
test checks that the merge landed where it should: chalice's logical ids are the ones the
template names, the placeholders of chalicelib/services/messaging/fanout_wiring.py are all replaced, and each
function has its size, its policy and the resources' names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chalicelib.services.messaging import fanout_wiring
from devtools import infra

STAGE = "prod"


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("package")
    merge = infra.write_template(STAGE, folder / "merge.json")
    chalice = Path(sys.executable).parent / "chalice"
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    # chalice caches the dependency wheels under .chalice/deployments: fast after the first run.
    subprocess.run(
        [str(chalice), "package", "--stage", STAGE, "--merge-template", str(merge), str(folder / "out")],
        check=True,
        env=env,
        capture_output=True,
    )
    infra.add_bytecode(folder / "out")  # as make package does
    return folder / "out"


@pytest.fixture(scope="module")
def sam(packaged: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((packaged / "sam.json").read_text())
    return loaded


def test_every_merged_resource_is_complete(sam: dict[str, Any]) -> None:
    """A template entry that names no chalice resource would be merged as a Type-less fragment."""
    assert [name for name, resource in sam["Resources"].items() if "Type" not in resource] == []


def test_every_log_group_names_its_function(sam: dict[str, Any]) -> None:
    """chalice 1.34 names the API's log group after a logical id that does not exist; the template fixes it."""
    groups = {name: r for name, r in sam["Resources"].items() if r["Type"] == "AWS::Logs::LogGroup"}
    assert len(groups) == len(infra.FUNCTIONS)
    named = {
        group["Properties"]["LogGroupName"]["Fn::Sub"].removeprefix("/aws/lambda/${")[:-1] for group in groups.values()
    }
    assert named == set(infra.FUNCTIONS.values())


def test_functions_have_their_handler_size_environment_and_policy(sam: dict[str, Any]) -> None:
    config = json.loads(Path(".chalice/config.json").read_text())
    policy = json.loads(Path(f".chalice/policy-{STAGE}.json").read_text())
    for handler, logical_id in infra.FUNCTIONS.items():
        function = sam["Resources"][logical_id]
        assert function["Type"] == "AWS::Serverless::Function"
        properties = function["Properties"]
        assert properties["Handler"] == ("app.app" if handler == "api_handler" else f"app.{handler}")
        assert properties["MemorySize"] == config["lambda_functions"][handler]["lambda_memory_size"]
        assert properties["Timeout"] == config["lambda_functions"][handler]["lambda_timeout"]
        assert properties["Environment"]["Variables"] == {
            **config["stages"][STAGE]["environment_variables"],
            **infra.FUNCTION_ENVIRONMENT,
        }
        role = sam["Resources"][properties["Role"]["Fn::GetAtt"][0]]
        assert [p["PolicyDocument"] for p in role["Properties"]["Policies"]] == [policy]


def test_event_sources_are_the_stack_resources(sam: dict[str, Any]) -> None:
    resources = sam["Resources"]
    (stream,) = resources["PublishOutbox"]["Properties"]["Events"].values()
    assert stream["Type"] == "DynamoDB"
    assert stream["Properties"]["Stream"] == {"Fn::GetAtt": ["BookingTable", "StreamArn"]}
    assert stream["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    (pattern,) = stream["Properties"]["FilterCriteria"]["Filters"]
    assert json.loads(pattern["Pattern"])["eventName"] == ["INSERT"]
    for function, queue in (("DeliverWebhooks", "WebhookQueue"), ("SendEmails", "EmailQueue")):
        (source,) = resources[function]["Properties"]["Events"].values()
        assert source["Type"] == "SQS"
        assert source["Properties"]["Queue"] == {"Fn::Sub": f"${{{queue}.Arn}}"}
        assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    webhooks = next(iter(resources["DeliverWebhooks"]["Properties"]["Events"].values()))["Properties"]
    assert webhooks["BatchSize"] == fanout_wiring.WEBHOOK_BATCH_SIZE
    assert webhooks["MaximumBatchingWindowInSeconds"] == fanout_wiring.WEBHOOK_BATCH_WINDOW_SECONDS
    (schedule,) = resources["SweepDue"]["Properties"]["Events"].values()
    assert schedule["Properties"]["Schedule"] == "rate(1 minute)"


def test_no_placeholder_survives_the_merge(sam: dict[str, Any]) -> None:
    text = json.dumps(sam)
    for placeholder in (
        fanout_wiring.OUTBOX_STREAM_ARN,
        f":{fanout_wiring.WEBHOOK_QUEUE}",
        f":{fanout_wiring.EMAIL_QUEUE}",
    ):
        assert placeholder not in text


def test_deployment_zip_is_small_and_holds_the_app(packaged: Path) -> None:
    path = packaged / "deployment.zip"
    # Lambda's limit is 50 MB zipped; our aim is 30 MB (botocore, which PynamoDB needs, is most of it;
    # the bytecode added 6 MB to the 23 MB, and spares each cold start compiling what it imports).
    assert path.stat().st_size < 30 * 1024 * 1024, infra.describe_zip(path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    assert {"app.py", "chalicelib/settings.py", "chalicelib/services/messaging/fanout_wiring.py"} <= names
    tag = sys.implementation.cache_tag  # the bytecode, so that cold starts do not compile (test_bytecode.py)
    assert {f"__pycache__/app.{tag}.pyc", f"chalicelib/__pycache__/settings.{tag}.pyc"} <= names
    assert f"botocore/__pycache__/client.{tag}.pyc" in names
    assert not any(name.startswith(("tests/", "devtools/", ".venv/")) for name in names)
    assert any(name.startswith("pydantic_core/") and name.endswith("x86_64-linux-gnu.so") for name in names)


def test_the_stage_is_throttled_and_gateway_answers_carry_cors(sam: dict[str, Any]) -> None:
    api = sam["Resources"]["RestAPI"]["Properties"]
    (throttle,) = api["MethodSettings"]
    assert (throttle["ResourcePath"], throttle["HttpMethod"]) == ("/*", "*")
    assert throttle["ThrottlingRateLimit"] == {"Ref": "ThrottleRate"}
    assert throttle["ThrottlingBurstLimit"] == {"Ref": "ThrottleBurst"}
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert api["GatewayResponses"][kind]["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"] == "'*'"


def test_unknown_paths_answer_preflights_with_the_apps_headers(sam: dict[str, Any]) -> None:
    from chalicelib.domain import cors

    paths = sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert list(paths["/{proxy+}"]) == ["options"]  # only preflights: other methods stay 403
    integration = paths["/{proxy+}"]["options"]["x-amazon-apigateway-integration"]
    assert integration["type"] == "mock"
    answered = integration["responses"]["default"]["responseParameters"]
    allowed = answered["method.response.header.Access-Control-Allow-Headers"].strip("'").split(",")
    assert set(cors.ALLOWED_HEADERS) <= set(allowed)
    assert {"Timekit-Context", "Timekit-Timezone", "Timekit-App"} <= set(allowed)
