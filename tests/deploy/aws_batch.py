"""Runs a batch of AWS API calls with botocore, the library the AWS CLI is built on, in one
process: every AWS CLI start costs about a second, and the deploy tests read back dozens of
settings per case.

Input (stdin): a JSON array of calls
    {"profile": NAME, "region": REGION, "service": "s3", "operation": "get_bucket_policy",
     "params": {...}}
Output (stdout): a JSON array with, for each call in order, {"ok": RESPONSE} or
{"error": {"code": CODE, "message": TEXT}}. Profiles, credentials and the endpoint come from
the environment exactly as for the AWS CLI (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE,
AWS_ENDPOINT_URL).
"""

import datetime
import json
import sys

import botocore.exceptions
import botocore.session


def plain(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "read"):
        return value.read().decode("utf-8", "replace")
    raise TypeError(f"cannot print {type(value).__name__} as JSON")


def main():
    calls = json.load(sys.stdin)
    sessions = {}
    clients = {}
    results = []
    for call in calls:
        profile, region, service = call["profile"], call["region"], call["service"]
        if profile not in sessions:
            sessions[profile] = botocore.session.Session(profile=profile)
        if (profile, region, service) not in clients:
            clients[(profile, region, service)] = sessions[profile].create_client(
                service, region_name=region
            )
        client = clients[(profile, region, service)]
        try:
            response = getattr(client, call["operation"])(**call.get("params", {}))
            response.pop("ResponseMetadata", None)
            results.append({"ok": response})
        except botocore.exceptions.ClientError as error:
            results.append(
                {
                    "error": {
                        "code": error.response.get("Error", {}).get("Code", ""),
                        "message": str(error),
                    }
                }
            )
    json.dump(results, sys.stdout, default=plain)


if __name__ == "__main__":
    main()
