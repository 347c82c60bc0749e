"""Build the CloudFormation merge template for one stage, and describe a package.

``python -m devtools.infra template --stage prod --out dist/prod-merge.json`` loads the
hand-written ``infra/template.yaml`` and fills in what is generated from the code, so the
deployed resources cannot drift from it:

* the table's keys, indexes, billing and stream from ``chalicelib/store/schema.py``;
* one state machine per ``infra/statemachines/<graph>.asl.json`` (``make asl``);
* the email subscription's filter policy from ``chalicelib/services/messaging/fanout_wiring.py``;
* the SES templates from ``chalicelib/services/messaging/mail_templates.py``;
* the names every Lambda function gets as environment variables, and its errors alarm;
* the stage: the ``Stage`` parameter only allows the packaged stage, prod keeps its table.

``python -m devtools.infra bytecode dist/prod`` compiles every module in the deployment zip
into it, and ``python -m devtools.infra report dist/prod`` prints the zip's size and what
takes the room in it (``make package`` runs all three; see docs/operations.md).
"""

from __future__ import annotations

import argparse
import compileall
import copy
import json
import py_compile
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"
STATEMACHINES = ROOT / "infra" / "statemachines"
STAGES = ("dev", "prod")

# Chalice's logical ids for the Lambda functions (its handler names in CamelCase; the REST
# API's handler is "APIHandler").
FUNCTIONS = {
    "api_handler": "APIHandler",
    "sweep_due": "SweepDue",
    "publish_outbox": "PublishOutbox",
    "deliver_webhooks": "DeliverWebhooks",
    "send_emails": "SendEmails",
}

# What every function is told about the resources (settings read by chalicelib/settings.py).
# STAGE and MAIL_FROM come from .chalice/config.json; TABLE_NAME is there too (the same name)
# so that `chalice deploy` without this template still finds the table.
FUNCTION_ENVIRONMENT: dict[str, Any] = {
    "TABLE_NAME": {"Ref": "BookingTable"},
    "EVENTS_TOPIC_ARN": {"Ref": "EventsTopic"},
    "WEBHOOK_QUEUE_URL": {"Ref": "WebhookQueue"},
    "WEBHOOK_DLQ_URL": {"Ref": "WebhookDLQ"},
    "EMAIL_QUEUE_URL": {"Ref": "EmailQueue"},
    "BOOKING_ROOT_KEY": {"Ref": "RootKey"},
}


def load_yaml(path: Path) -> dict[str, Any]:
    import yaml  # type: ignore[import-untyped]  # dev tool only; PyYAML comes with chalice and cfn-lint

    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_") if part)


def table_properties() -> dict[str, Any]:
    """The CloudFormation properties that come from ``table_definition`` (all but the name)."""
    from chalicelib.store.schema import table_definition

    definition = table_definition("unused")
    del definition["TableName"]
    # CreateTable's StreamSpecification has StreamEnabled; CloudFormation's has only the view type.
    stream = definition.pop("StreamSpecification")
    if stream["StreamEnabled"]:
        definition["StreamSpecification"] = {"StreamViewType": stream["StreamViewType"]}
    return definition


def state_machines() -> dict[str, dict[str, Any]]:
    """Logical id -> resource, one per generated ASL file, in file-name order."""
    resources: dict[str, dict[str, Any]] = {}
    for path in sorted(STATEMACHINES.glob("*.asl.json")):
        graph = path.name.removesuffix(".asl.json")
        definition = json.loads(path.read_text(encoding="utf-8"))
        resources[f"{camel(graph)}StateMachine"] = {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": {"Fn::Sub": f"booking-engine-${{Stage}}-{graph.replace('_', '-')}"},
                "StateMachineType": "STANDARD",
                "RoleArn": {"Fn::GetAtt": ["StateMachineRole", "Arn"]},
                # Compact: the definitions are most of the template's size (1 MB limit).
                "DefinitionString": json.dumps(definition, separators=(",", ":"), sort_keys=True),
                "DefinitionSubstitutions": {"TableName": {"Ref": "BookingTable"}},
            },
        }
    return resources


def email_filter_policy() -> dict[str, Any]:
    from chalicelib.services.messaging.fanout_wiring import EMAIL_EVENT_TYPES

    return {"type": sorted(EMAIL_EVENT_TYPES)}


def mail_templates(stage: str) -> dict[str, dict[str, Any]]:
    """Logical id -> AWS::SES::Template, one per template of ``chalicelib/services/messaging/mail_templates.py``."""
    from chalicelib.services.messaging.mail_templates import TEMPLATES, template_name

    return {
        f"MailTemplate{camel(key.replace('-', '_'))}": {
            "Type": "AWS::SES::Template",
            "Properties": {
                "Template": {
                    # The name the mail service sends with (chalicelib/services/messaging/mail.py).
                    "TemplateName": template_name(key, stage),
                    "SubjectPart": parts["subject"],
                    "TextPart": parts["text"],
                    "HtmlPart": parts["html"],
                }
            },
        }
        for key, parts in sorted(TEMPLATES.items())
    }


def error_alarm(logical_id: str) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": {"Fn::Sub": f"booking-engine-${{Stage}}-{logical_id}-errors"},
            "AlarmDescription": f"{logical_id} failed (Lambda Errors: uncaught exceptions and timeouts) "
            "3 times in 5 minutes; see its log group",
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": logical_id}}],
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 2,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "OKActions": [{"Ref": "AlarmTopic"}],
        },
    }


def build(stage: str) -> dict[str, Any]:
    """The merge template for ``stage`` (dev or prod)."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, not {stage!r}")
    template = copy.deepcopy(load_yaml(TEMPLATE))
    parameters, resources, outputs = template["Parameters"], template["Resources"], template["Outputs"]
    # A prod package cannot be deployed as dev by a mistyped parameter, and needs none.
    parameters["Stage"]["AllowedValues"] = [stage]
    parameters["Stage"]["Default"] = stage

    table = resources["BookingTable"]
    table["Properties"].update(table_properties())
    table["Properties"]["DeletionProtectionEnabled"] = stage == "prod"
    # prod keeps its data when the stack (or the resource) goes away; dev cleans up.
    table["DeletionPolicy"] = table["UpdateReplacePolicy"] = "Retain" if stage == "prod" else "Delete"

    resources["EmailSubscription"]["Properties"]["FilterPolicy"] = email_filter_policy()

    for logical_id, machine in state_machines().items():
        resources[logical_id] = machine
        outputs[f"{logical_id}Arn"] = {"Value": {"Ref": logical_id}}

    resources.update(mail_templates(stage))

    for logical_id in FUNCTIONS.values():
        function = resources.setdefault(logical_id, {})
        function.setdefault("Properties", {})["Environment"] = {"Variables": dict(FUNCTION_ENVIRONMENT)}
        resources[f"{logical_id}ErrorsAlarm"] = error_alarm(logical_id)
    return template


def write_template(stage: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(build(stage), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return out


def add_bytecode(package: Path) -> tuple[int, int]:
    """Compile every ``.py`` in ``package``/deployment.zip into the zip, as Python would cache it.

    Lambda unpacks the zip into a read-only /var/task, where Python cannot write bytecode:
    without it in the zip, every cold start compiles each module it imports from source
    (importing the app takes about twice as long; docs/performance.md). The
    bytecode is unchecked-hash (PEP 552): Python loads it without comparing it to the
    source's timestamp, which a zip keeps only to two seconds. It must be for the runtime's
    Python version: refused otherwise.

    Returns (modules compiled, sources that did not compile on this Python, left as they are).
    """
    template = json.loads((package / "sam.json").read_text(encoding="utf-8"))
    runtimes = {
        resource["Properties"]["Runtime"]
        for resource in template["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::Function"
    }
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtimes != {here}:
        raise ValueError(f"the functions run {sorted(runtimes)}; this Python ({here}) cannot compile for them")
    zip_path = package / "deployment.zip"
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(zip_path, "a", zipfile.ZIP_DEFLATED) as archive:
        names = set(archive.namelist())
        sources = sorted(name for name in names if name.endswith(".py"))
        archive.extractall(folder, sources)
        compileall.compile_dir(
            folder,
            quiet=2,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        compiled = sorted(Path(folder).rglob("*.pyc"))
        for pyc in compiled:
            name = pyc.relative_to(folder).as_posix()
            if name not in names:
                archive.write(pyc, name)
    return len(compiled), len(sources) - len(compiled)


def describe_zip(path: Path, top: int = 12) -> str:
    """The zip's size and the top-level entries that take the most room in it."""
    compressed: Counter[str] = Counter()
    expanded: Counter[str] = Counter()
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename.split("/")[0]
            name = name.split("-")[0] if name.endswith(".dist-info") else name
            compressed[name] += info.compress_size
            expanded[name] += info.file_size
    size = path.stat().st_size
    lines = [
        f"{path}: {size / 1e6:.1f} MB zipped, {sum(expanded.values()) / 1e6:.1f} MB unzipped "
        "(Lambda limits: 50 MB zipped, 250 MB unzipped)",
        f"  {'zipped':>9} {'unzipped':>9}  top-level entry",
    ]
    for name, packed in compressed.most_common(top):
        lines.append(f"  {packed / 1e6:7.2f}MB {expanded[name] / 1e6:7.2f}MB  {name}")
    rest = compressed.most_common()[top:]
    if rest:
        lines.append(f"  {sum(v for _, v in rest) / 1e6:7.2f}MB {'':>9}  {len(rest)} more entries")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("template", help="write the merge template for a stage")
    make.add_argument("--stage", choices=STAGES, required=True)
    make.add_argument("--out", type=Path, required=True)
    compile_ = commands.add_parser("bytecode", help="add compiled bytecode to a `chalice package` output folder")
    compile_.add_argument("folder", type=Path)
    report = commands.add_parser("report", help="describe a `chalice package` output folder")
    report.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.command == "template":
        print(f"wrote {write_template(args.stage, args.out)}")
        return 0
    folder: Path = args.folder
    if args.command == "bytecode":
        compiled, skipped = add_bytecode(folder)
        print(f"{folder / 'deployment.zip'}: bytecode for {compiled} modules ({skipped} sources do not compile here)")
        return 0
    print(describe_zip(folder / "deployment.zip"))
    template = json.loads((folder / "sam.json").read_text(encoding="utf-8"))
    kinds = Counter(resource["Type"] for resource in template["Resources"].values())
    size = (folder / "sam.json").stat().st_size
    print(f"{folder / 'sam.json'}: {size / 1e3:.0f} kB (CloudFormation's limit from S3: 1 MB), resources:")
    for kind, count in sorted(kinds.items()):
        print(f"  {count:3d} {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
