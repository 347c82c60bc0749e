"""The infrastructure template, the chalice config and the IAM policies agree with the code.

The merge template is what ``make package`` merges into chalice's output
(``devtools.infra.build``); the packaged result is checked by cfn-lint (``make cfn-lint``)
and by tests/infra/test_package.py.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.services.messaging import delivery
from chalicelib.store.schema import TTL_ATTRIBUTE, table_definition
from devtools import infra, local_queues

CHALICE = Path(".chalice")


def _config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads((CHALICE / "config.json").read_text())
    return config


def _policy(stage: str) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads((CHALICE / f"policy-{stage}.json").read_text())
    return policy


def _allows(policy: dict[str, Any], action: str, resource: str) -> bool:
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if (
            statement["Effect"] == "Allow"
            and action in actions
            and any(fnmatch.fnmatchcase(resource, r) for r in resources)
        ):
            return True
    return False


def _sub(value: Any, stage: str) -> str:
    """A ``{"Fn::Sub": "...${Stage}..."}`` name as deployed for ``stage``."""
    assert isinstance(value, dict) and set(value) == {"Fn::Sub"}, value
    text: str = value["Fn::Sub"]
    return text.replace("${Stage}", stage)


@pytest.mark.parametrize("stage", infra.STAGES)
def test_table_is_the_schema_definition(stage: str) -> None:
    """Keys, attributes, every index, billing and stream: exactly ``table_definition``; plus TTL and PITR."""
    table = infra.build(stage)["Resources"]["BookingTable"]
    properties = dict(table["Properties"])
    expected = table_definition(f"booking-engine-{stage}")
    assert _sub(properties.pop("TableName"), stage) == expected.pop("TableName")
    stream = expected.pop("StreamSpecification")
    assert stream == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert properties.pop("StreamSpecification") == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    for key, value in expected.items():
        assert properties.pop(key) == value, key
    assert properties.pop("TimeToLiveSpecification") == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert properties.pop("PointInTimeRecoverySpecification") == {"PointInTimeRecoveryEnabled": True}
    assert properties.pop("DeletionProtectionEnabled") is (stage == "prod")
    assert properties.pop("SSESpecification") == {"SSEEnabled": True}
    assert properties == {}, "a table property the schema does not define"
    assert expected["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionPolicy"] == ("Retain" if stage == "prod" else "Delete")


@pytest.mark.parametrize("stage", infra.STAGES)
def test_stage_parameter_only_allows_the_packaged_stage(stage: str) -> None:
    parameter = infra.build(stage)["Parameters"]["Stage"]
    assert parameter["AllowedValues"] == [stage]
    assert parameter["Default"] == stage


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="stage must be one of"):
        infra.build("local")


def test_every_state_machine_file_is_deployed_with_the_table_substituted() -> None:
    resources = infra.build("prod")["Resources"]
    machines = {k: v for k, v in resources.items() if v.get("Type") == "AWS::StepFunctions::StateMachine"}
    files = sorted(infra.STATEMACHINES.glob("*.asl.json"))
    assert len(machines) == len(files) > 0
    for path in files:
        machine = machines[f"{infra.camel(path.name.removesuffix('.asl.json'))}StateMachine"]["Properties"]
        assert json.loads(machine["DefinitionString"]) == json.loads(path.read_text())
        assert "${TableName}" in machine["DefinitionString"]
        assert machine["DefinitionSubstitutions"] == {"TableName": {"Ref": "BookingTable"}}


def test_email_subscription_filters_on_the_email_event_types() -> None:
    from chalicelib.services.messaging.fanout_wiring import EMAIL_EVENT_TYPES, EVENT_TYPES

    resources = infra.build("prod")["Resources"]
    email = resources["EmailSubscription"]["Properties"]
    assert email["FilterPolicy"] == {"type": sorted(EMAIL_EVENT_TYPES)}
    assert set(EMAIL_EVENT_TYPES) < set(EVENT_TYPES)
    webhooks = resources["WebhookSubscription"]["Properties"]
    assert webhooks["FilterPolicy"] == {"type": [{"exists": True}]}
    for subscription in (email, webhooks):
        assert subscription["RawMessageDelivery"] is True
        assert subscription["FilterPolicyScope"] == "MessageAttributes"


def test_every_function_gets_the_resource_names_and_an_errors_alarm() -> None:
    resources = infra.build("dev")["Resources"]
    for logical_id in infra.FUNCTIONS.values():
        variables = resources[logical_id]["Properties"]["Environment"]["Variables"]
        assert variables == infra.FUNCTION_ENVIRONMENT
        dimensions = resources[f"{logical_id}ErrorsAlarm"]["Properties"]["Dimensions"]
        assert dimensions == [{"Name": "FunctionName", "Value": {"Ref": logical_id}}]


def test_every_environment_variable_the_template_sets_is_a_setting() -> None:
    from chalicelib.settings_model import environment_names

    names = set(environment_names().values())
    assert set(infra.FUNCTION_ENVIRONMENT) <= names
    for stage in infra.STAGES:
        assert set(_config()["stages"][stage]["environment_variables"]) - {"POWERTOOLS_LOG_LEVEL"} <= names


def test_config_has_the_three_stages_and_every_function_sized() -> None:
    config = _config()
    assert set(config["stages"]) == {"local", "dev", "prod"}
    assert config["autogen_policy"] is False
    assert set(config["lambda_functions"]) == set(infra.FUNCTIONS)
    for name, sizing in config["lambda_functions"].items():
        assert 128 <= sizing["lambda_memory_size"] <= 10_240, name
        assert 1 <= sizing["lambda_timeout"] <= 900, name
    # API Gateway's REST integration gives up after 29 s: a longer API timeout only wastes money.
    assert config["lambda_functions"]["api_handler"]["lambda_timeout"] <= 29
    # The sweeper's time budget (app.py, 45 s) must end well before its timeout.
    assert config["lambda_functions"]["sweep_due"]["lambda_timeout"] >= 55


@pytest.mark.parametrize("stage", infra.STAGES)
def test_config_names_match_the_template(stage: str) -> None:
    stage_config = _config()["stages"][stage]
    assert stage_config["iam_policy_file"] == f"policy-{stage}.json"
    assert stage_config["environment_variables"]["STAGE"] == stage
    table = infra.build(stage)["Resources"]["BookingTable"]["Properties"]["TableName"]
    assert stage_config["environment_variables"]["TABLE_NAME"] == _sub(table, stage)


def test_a_webhook_claim_cannot_go_stale_while_its_sender_may_still_run() -> None:
    """A claimed attempt is taken over once stale: only after the process holding it is gone."""
    assert _config()["lambda_functions"]["deliver_webhooks"]["lambda_timeout"] < delivery.STALE_CLAIM_SECONDS
    # A message held back by a claim (RetryLater) is received again until the claim is stale,
    # before its last receive sends it to the dead-letter queue: deployed and locally.
    queue = infra.build("prod")["Resources"]["WebhookQueue"]["Properties"]
    receives = queue["RedrivePolicy"]["maxReceiveCount"]
    assert queue["VisibilityTimeout"] * (receives - 1) > delivery.STALE_CLAIM_SECONDS
    assert (
        local_queues.WEBHOOK_VISIBILITY_TIMEOUT_SECONDS * (local_queues.MAX_RECEIVES - 1) > delivery.STALE_CLAIM_SECONDS
    )


def test_queue_visibility_is_six_times_the_consumer_timeout() -> None:
    """AWS's advice for SQS event sources: a message is not handed out twice while a run lasts."""
    resources = infra.build("prod")["Resources"]
    functions = _config()["lambda_functions"]
    for queue, function in (("WebhookQueue", "deliver_webhooks"), ("EmailQueue", "send_emails")):
        assert resources[queue]["Properties"]["VisibilityTimeout"] >= 6 * functions[function]["lambda_timeout"]
        assert resources[queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][1] == "Arn"


@pytest.mark.parametrize("stage", infra.STAGES)
def test_policy_grants_the_calls_on_the_stage_resources(stage: str) -> None:
    """Each call the code makes, on each resource of the template it makes it on (names as deployed)."""
    policy = _policy(stage)
    resources = infra.build(stage)["Resources"]
    region_account = "arn:aws:{service}:us-east-1:123456789012:"
    table = (
        region_account.format(service="dynamodb")
        + "table/"
        + _sub(resources["BookingTable"]["Properties"]["TableName"], stage)
    )

    def arn(service: str, logical_id: str, name_key: str) -> str:
        return region_account.format(service=service) + _sub(resources[logical_id]["Properties"][name_key], stage)

    for action in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "ConditionCheckItem"):
        assert _allows(policy, f"dynamodb:{action}", table)
        for index in ("gsi1", "gsi2", "expiry"):
            assert _allows(policy, f"dynamodb:{action}", f"{table}/index/{index}")
    for action in ("DescribeStream", "GetRecords", "GetShardIterator"):
        assert _allows(policy, f"dynamodb:{action}", f"{table}/stream/2026-01-01T00:00:00.000")
    assert _allows(policy, "sns:Publish", arn("sns", "EventsTopic", "TopicName"))
    for queue in ("WebhookQueue", "WebhookDLQ", "OutboxFailureQueue"):
        assert _allows(policy, "sqs:SendMessage", arn("sqs", queue, "QueueName"))
    for queue in ("WebhookQueue", "EmailQueue"):
        for action in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes"):
            assert _allows(policy, f"sqs:{action}", arn("sqs", queue, "QueueName"))


@pytest.mark.parametrize("stage", infra.STAGES)
def test_policy_grants_nothing_beyond_the_stage(stage: str) -> None:
    """No wildcard actions, no other stage's resources, ``*`` only where IAM has no resource level."""
    policy = _policy(stage)
    other = next(s for s in infra.STAGES if s != stage)
    text = json.dumps(policy)
    assert f"booking-engine-{other}" not in text
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), actions
        assert statement["Effect"] == "Allow"
        if statement["Resource"] == "*":
            assert actions == ["dynamodb:ListStreams"]
    # No table-wide or admin calls: the code never scans, describes, creates or deletes tables.
    table = f"arn:aws:dynamodb:us-east-1:1:table/booking-engine-{stage}"
    for action in ("Scan", "DescribeTable", "DeleteTable", "UpdateTable", "BatchWriteItem", "CreateTable"):
        assert not _allows(policy, f"dynamodb:{action}", table)
    assert not _allows(policy, "sns:Publish", f"arn:aws:sns:us-east-1:1:booking-engine-{stage}-alarms")
    assert not _allows(policy, "sqs:SendMessage", f"arn:aws:sqs:us-east-1:1:booking-engine-{stage}-emails-dlq")


@pytest.mark.parametrize("stage", infra.STAGES)
def test_ses_sending_is_limited_to_the_stage_sender(stage: str) -> None:
    mail_from = _config()["stages"][stage]["environment_variables"]["MAIL_FROM"]
    domain = mail_from.split("@")[1]
    # templated emails, and raw ones (an email with its calendar invitation attached)
    for sid in ("SendTemplatedEmail", "SendRawEmail"):
        (ses,) = [s for s in _policy(stage)["Statement"] if s["Sid"] == sid]
        assert ses["Condition"] == {"StringEquals": {"ses:FromAddress": mail_from}}
        assert f"arn:aws:ses:*:*:identity/{domain}" in ses["Resource"]


def test_the_policies_differ_only_by_stage_and_sender() -> None:
    def normalised(stage: str) -> str:
        sender = _config()["stages"][stage]["environment_variables"]["MAIL_FROM"]
        text = json.dumps(_policy(stage), indent=1).replace(sender, "<MAIL_FROM>")
        return text.replace(sender.split("@")[1], "<DOMAIN>").replace(f"booking-engine-{stage}", "<APP>")

    assert normalised("dev") == normalised("prod")


@pytest.mark.parametrize("stage", infra.STAGES)
def test_ses_templates_are_the_mail_templates_under_the_names_the_mailer_sends(stage: str) -> None:
    from chalicelib.services.messaging.mail_templates import TEMPLATES, template_name

    resources = infra.build(stage)["Resources"]
    deployed = {
        r["Properties"]["Template"]["TemplateName"]: r["Properties"]["Template"]
        for r in resources.values()
        if r.get("Type") == "AWS::SES::Template"
    }
    assert set(deployed) == {template_name(key, stage) for key in TEMPLATES}
    for key, parts in TEMPLATES.items():
        template = deployed[template_name(key, stage)]
        assert (template["SubjectPart"], template["TextPart"], template["HtmlPart"]) == (
            parts["subject"],
            parts["text"],
            parts["html"],
        )
    # The policy's template grant covers every one of them.
    (ses,) = [s for s in _policy(stage)["Statement"] if s["Sid"] == "SendTemplatedEmail"]
    patterns = [r.split(":template/")[1] for r in ses["Resource"] if ":template/" in r]
    assert all(any(fnmatch.fnmatchcase(name, p) for p in patterns) for name in deployed)
