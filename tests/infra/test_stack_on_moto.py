"""The template's own resources (everything but chalice's SAM functions and API), created by
moto's CloudFormation, then a booking run through the created table and published through the
created topic to the created queues.

Where moto does not follow the template, the test says so and checks the rest:

* ``AWS::SNS::Subscription``, ``AWS::SQS::QueuePolicy`` and ``AWS::CloudWatch::Alarm`` are not
  implemented by moto's CloudFormation (it skips them with a warning): the test makes the two
  subscriptions itself from the template's own properties (filter policy, raw delivery) so the
  filter is exercised; the queue policy and alarms are checked statically below.
* ``TimeToLiveSpecification`` and ``PointInTimeRecoverySpecification`` are ignored (moto reports
  TTL and PITR disabled): tests/infra/test_template.py checks them in the template.
* ``DefinitionSubstitutions`` is not applied (``${TableName}`` stays literal in the created state
  machine); the template uses ``Ref`` for state machines, never ``GetAtt ...Arn``, which moto rejects.
* Resources that reference the SAM functions (their alarms, the merged event sources) cannot be
  created without the SAM transform: they are left out (``own_template``) and cfn-lint checks them
  in the packaged template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
import pytest

from chalicelib.store.schema import table_definition
from devtools import infra
from tests.conftest import Api, _use_table, make_tenant

REGION = "us-east-1"
MOTO_SKIPS = {"AWS::SNS::Subscription", "AWS::SQS::QueuePolicy", "AWS::CloudWatch::Alarm"}


def _references(node: Any) -> Iterator[str]:
    """Logical ids (and parameters) a template fragment refers to."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref":
                yield value
            elif key == "Fn::GetAtt":
                yield value[0] if isinstance(value, list) else value.split(".")[0]
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                yield from (name.split(".")[0] for name in re.findall(r"\$\{([A-Za-z0-9.:]+)\}", text))
                if not isinstance(value, str):
                    yield from _references(value[1])
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def own_template(template: dict[str, Any]) -> dict[str, Any]:
    """The template's own (non-SAM) resources, without anything that refers to chalice's."""
    known = set(template["Parameters"])
    resources = {
        name: resource
        for name, resource in template["Resources"].items()
        if "Type" in resource and not resource["Type"].startswith("AWS::Serverless::")
    }

    def resolvable(node: Any) -> bool:
        return all(ref.startswith("AWS::") or ref in known or ref in resources for ref in _references(node))

    changed = True
    while changed:
        unresolved = [name for name, resource in resources.items() if not resolvable(resource)]
        for name in unresolved:
            del resources[name]
        changed = bool(unresolved)
    outputs = {name: output for name, output in template["Outputs"].items() if resolvable(output)}
    return {**template, "Resources": resources, "Outputs": outputs}


@pytest.fixture
def template() -> dict[str, Any]:
    return infra.build("prod")


@pytest.fixture
def stack(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The created stack's outputs."""
    from moto import mock_aws

    # botocore 1.44 sends DynamoDB Streams calls to an account-id endpoint moto does not route.
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    with pytest.warns(UserWarning, match="not supported by moto"), mock_aws():
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(
            StackName="booking-engine-prod",
            TemplateBody=json.dumps(own_template(template)),
            Parameters=[{"ParameterKey": "RootKey", "ParameterValue": "a-root-key-for-the-stack-test"}],
        )
        (created,) = cloudformation.describe_stacks(StackName="booking-engine-prod")["Stacks"]
        assert created["StackStatus"] == "CREATE_COMPLETE", created.get("StackStatusReason")
        yield {output["OutputKey"]: output["OutputValue"] for output in created["Outputs"]}


def test_left_out_resources_are_only_the_ones_that_need_chalice(template: dict[str, Any]) -> None:
    left_out = set(template["Resources"]) - set(own_template(template)["Resources"])
    functions = set(infra.FUNCTIONS.values())
    expected = functions | {"RestAPI", "ApiHandlerLogGroup"} | {f"{name}ErrorsAlarm" for name in functions}
    expected |= {"SweeperBacklogAlarm", "SweeperNotRunningAlarm", "OutboxLagAlarm"}
    assert left_out == expected


def test_stack_creates_the_table_queues_topic_and_state_machines(
    template: dict[str, Any], stack: dict[str, str]
) -> None:
    assert stack["TableName"] == "booking-engine-prod"
    described = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=stack["TableName"])["Table"]
    definition = table_definition(stack["TableName"])
    assert described["KeySchema"] == definition["KeySchema"]
    assert sorted(described["AttributeDefinitions"], key=str) == sorted(definition["AttributeDefinitions"], key=str)
    assert {
        index["IndexName"]: (index["KeySchema"], index["Projection"]) for index in described["GlobalSecondaryIndexes"]
    } == {
        index["IndexName"]: (index["KeySchema"], index["Projection"]) for index in definition["GlobalSecondaryIndexes"]
    }
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert stack["TableStreamArn"] == described["LatestStreamArn"]

    sqs = boto3.client("sqs", region_name=REGION)
    for queue, dlq in (("WebhookQueueUrl", "WebhookDLQUrl"), ("EmailQueueUrl", "EmailDLQUrl")):
        attributes = sqs.get_queue_attributes(QueueUrl=stack[queue], AttributeNames=["All"])["Attributes"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=stack[dlq], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}
    assert stack["EventsTopicArn"].endswith(":booking-engine-prod-events")

    stepfunctions = boto3.client("stepfunctions", region_name=REGION)
    machines = {m["name"]: m["stateMachineArn"] for m in stepfunctions.list_state_machines()["stateMachines"]}
    files = sorted(infra.STATEMACHINES.glob("*.asl.json"))
    assert len(machines) == len(files)
    for path in files:
        name = "booking-engine-prod-" + path.name.removesuffix(".asl.json").replace("_", "-")
        described_machine = stepfunctions.describe_state_machine(stateMachineArn=machines[name])
        # moto does not apply DefinitionSubstitutions: the placeholder is still there.
        assert json.loads(described_machine["definition"]) == json.loads(path.read_text())
        assert described_machine["roleArn"].split("/")[-1].startswith("booking-engine-prod-StateMachineRole")


def _subscribe_as_the_template_says(template: dict[str, Any], stack: dict[str, str]) -> None:
    """moto's CloudFormation skips AWS::SNS::Subscription: make them from the template's properties."""
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    queues = {"WebhookQueue": stack["WebhookQueueUrl"], "EmailQueue": stack["EmailQueueUrl"]}
    for name in ("WebhookSubscription", "EmailSubscription"):
        properties = template["Resources"][name]["Properties"]
        assert properties["TopicArn"] == {"Ref": "EventsTopic"}
        queue_url = queues[properties["Endpoint"]["Fn::GetAtt"][0]]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=stack["EventsTopicArn"],
            Protocol=properties["Protocol"],
            Endpoint=queue_arn,
            Attributes={
                "RawMessageDelivery": str(properties["RawMessageDelivery"]).lower(),
                "FilterPolicyScope": properties["FilterPolicyScope"],
                "FilterPolicy": json.dumps(properties["FilterPolicy"]),
            },
        )


def _stream_records(stream_arn: str) -> list[dict[str, Any]]:
    """Every record of the table's stream, shaped as Lambda delivers them."""
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            created = record["dynamodb"]["ApproximateCreationDateTime"]
            if isinstance(created, datetime):
                record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
            records.append({**record, "eventSourceARN": stream_arn})
    return records


def _drain(queue_url: str) -> list[Any]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages: list[Any] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages", []
    ):
        messages.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch]
        )
    return messages


def test_booking_through_the_created_table_and_topic(
    template: dict[str, Any], stack: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalice.test import Client

    from app import app

    _subscribe_as_the_template_says(template, stack)
    # The app's settings point at the created resources, as the template's environment does.
    monkeypatch.setenv("EVENTS_TOPIC_ARN", stack["EventsTopicArn"])
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", stack["WebhookQueueUrl"])
    monkeypatch.setenv("WEBHOOK_DLQ_URL", stack["WebhookDLQUrl"])
    monkeypatch.setenv("EMAIL_QUEUE_URL", stack["EmailQueueUrl"])
    _use_table(monkeypatch, stack["TableName"], None)

    with Client(app, stage_name="local") as client:
        api = Api(client)
        tenant = make_tenant(api)
        booked = api.post(
            "/v2/bookings",
            {
                "graph": "confirm_decline",
                "event": {"start": "2031-03-01T08:00:00+00:00", "end": "2031-03-01T09:00:00+00:00", "what": "Cut"},
                "customer": {"name": "Marty McFly", "email": "marty@example.com"},
            },
            tenant.v2,
        )
        assert booked.status == 201, booked.body
        booking_id = booked.body["data"]["id"]
        assert api.get(f"/v2/bookings/{booking_id}", tenant.v2).body["data"]["state"] == "tentative"

        records = _stream_records(stack["TableStreamArn"])
        outbox = [r for r in records if r["dynamodb"]["Keys"]["pk"]["S"].startswith("OUTBOX#")]
        assert [r["eventName"] for r in outbox] == ["INSERT"]
        # Lambda's filter (the template's FilterCriteria) hands the function only new outbox items.
        result = client.lambda_.invoke("publish_outbox", {"Records": outbox})
        assert result.payload == {"batchItemFailures": []}

    webhooks = _drain(stack["WebhookQueueUrl"])
    emails = _drain(stack["EmailQueueUrl"])
    for delivered in (webhooks, emails):
        (message,) = delivered
        assert message["MessageAttributes"]["type"]["StringValue"] == "booking.created"
        assert message["MessageAttributes"]["company_id"]["StringValue"] == str(tenant.id)
        assert booking_id in message["Body"]  # raw delivery: the event itself, not an SNS envelope

    # The email queue only gets the types that send emails; the webhook queue gets every type.
    boto3.client("sns", region_name=REGION).publish(
        TopicArn=stack["EventsTopicArn"],
        Message=json.dumps({"type": "hold.created"}),
        MessageAttributes={
            "type": {"DataType": "String", "StringValue": "hold.created"},
            "company_id": {"DataType": "String", "StringValue": str(tenant.id)},
        },
    )
    assert [m["MessageAttributes"]["type"]["StringValue"] for m in _drain(stack["WebhookQueueUrl"])] == ["hold.created"]
    assert _drain(stack["EmailQueueUrl"]) == []


def test_skipped_resources_point_at_created_ones(template: dict[str, Any]) -> None:
    """What moto skips still refers only to resources it created (or to the SAM functions)."""
    own = own_template(template)["Resources"]
    skipped = {name: r for name, r in own.items() if r["Type"] in MOTO_SKIPS}
    assert {"WebhookSubscription", "EmailSubscription", "FanoutQueuesPolicy", "AlarmTopic"} - set(own) == set()
    created = {name for name, r in own.items() if r["Type"] not in MOTO_SKIPS}
    for name, resource in skipped.items():
        refs = {ref for ref in _references(resource) if not ref.startswith("AWS::")}
        assert refs <= created | set(template["Parameters"]), name
    policy = own["FanoutQueuesPolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "WebhookQueue"}, {"Ref": "EmailQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "EventsTopic"}}}
    alarms = [r for r in own.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert alarms and all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)
