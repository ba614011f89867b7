"""Reads podmeta's Terraform and CloudFormation forms of both policies, for every pod of a
running podmeta, with the tools their users run: python-hcl2 parses each Terraform file,
whose statements must be exactly the JSON policy's; each template must parse as YAML, its
PolicyDocument must equal the JSON policy, and cfn-lint (run by iac-check.sh on the files
written here) must find no error. Usage: iac_check.py http://HOST:PORT OUT_DIR
"""

import json
import pathlib
import sys
import urllib.request

import hcl2
import yaml

BUCKET = "mp-forwarding-acme"


def fetch(url, body=None):
    headers = {"Accept": "*/*"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers.get("Content-Type"), response.read().decode()


def unquote(value):
    """python-hcl2 8 keeps a string literal's quotes: the value without them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value)
    return value


def as_list(value):
    """A policy's string-or-list value, as a list: the two are the same value to AWS."""
    return [value] if isinstance(value, str) else list(value)


def json_statements(policy):
    statements = policy["Statement"]
    out = []
    for s in statements if isinstance(statements, list) else [statements]:
        principal = s.get("Principal", {})
        out.append({
            "sid": s.get("Sid"),
            "effect": s["Effect"],
            "actions": as_list(s["Action"]),
            "resources": as_list(s["Resource"]),
            "principals": [("AWS", as_list(principal["AWS"]))] if principal else [],
        })
    return out


def terraform_statements(text, name):
    parsed = hcl2.loads(text)
    documents = {}
    for block in parsed.get("data", []):
        for kind, named in block.items():
            for label, body in named.items():
                documents[(unquote(kind), unquote(label))] = body
    document = documents[("aws_iam_policy_document", name)]
    out = []
    for s in document["statement"]:
        out.append({
            "sid": unquote(s.get("sid")),
            "effect": unquote(s["effect"]),
            "actions": [unquote(a) for a in as_list(s["actions"])],
            "resources": [unquote(r) for r in as_list(s["resources"])],
            "principals": [
                (unquote(p["type"]), [unquote(i) for i in as_list(p["identifiers"])])
                for p in s.get("principals", [])
            ],
        })
    return parsed, out


def resources(parsed):
    out = {}
    for block in parsed.get("resource", []):
        for kind, named in block.items():
            for label, body in named.items():
                out[(unquote(kind), unquote(label))] = {k: unquote(v) for k, v in body.items()}
    return out


def check(base, out_dir):
    _, pods = fetch(f"{base}/pods")
    pods = [p["id"] for p in json.loads(pods)["pods"]]
    failures = []
    for pod in pods:
        forms = {
            "rules": lambda fmt: fetch(f"{base}/pods/{pod}/rules/iam-policy?format={fmt}"),
            "forwarding": lambda fmt: fetch(f"{base}/pods/{pod}/bucket-policy?format={fmt}", {"bucket": BUCKET}),
        }
        for document, get in forms.items():
            name = f"mparticle_{document}_{pod}"
            _, policy = get("json")
            policy = json.loads(policy)
            expected = json_statements(policy)

            media, text = get("terraform")
            (out_dir / f"{name}.tf").write_text(text)
            parsed, statements = terraform_statements(text, name)
            if media != "text/plain; charset=utf-8":
                failures.append(f"{pod} {document}: Terraform served as {media}")
            if statements != expected:
                failures.append(f"{pod} {document}: Terraform statements differ:\n{statements}\n{expected}")
            attached = resources(parsed)
            kind = "aws_iam_user_policy" if document == "rules" else "aws_s3_bucket_policy"
            resource = attached.get((kind, name))
            if resource is None or resource["policy"] != f"${{data.aws_iam_policy_document.{name}.json}}":
                failures.append(f"{pod} {document}: no {kind} {name} using the document: {attached}")
            if document == "forwarding" and resource and resource.get("bucket") != BUCKET:
                failures.append(f"{pod}: the bucket policy is for {resource.get('bucket')}")
            if document == "rules":
                variables = [unquote(k) for block in parsed.get("variable", []) for k in block]
                user = resource.get("user") if resource else None
                if user != f"${{var.{name}_user}}" or f"{name}_user" not in variables:
                    failures.append(f"{pod}: the user policy's variable is not declared: {variables} {resource}")

            media, text = get("cloudformation")
            (out_dir / f"{name}.yaml").write_text(text)
            template = yaml.safe_load(text)
            if media != "application/yaml":
                failures.append(f"{pod} {document}: CloudFormation served as {media}")
            if template.get("AWSTemplateFormatVersion") != "2010-09-09":
                failures.append(f"{pod} {document}: the template's version is {template.get('AWSTemplateFormatVersion')!r}")
            (resource,) = template["Resources"].values()
            if resource["Properties"]["PolicyDocument"] != policy:
                failures.append(f"{pod} {document}: PolicyDocument differs from the JSON policy")
            if resource["Properties"]["PolicyDocument"]["Version"] != "2012-10-17":
                failures.append(f"{pod} {document}: the policy's version is not the string 2012-10-17")
    print(f"{len(pods)} pods, 2 documents each: Terraform read by python-hcl2, templates by PyYAML")
    return failures


if __name__ == "__main__":
    failures = check(sys.argv[1].rstrip("/"), pathlib.Path(sys.argv[2]))
    for failure in failures:
        print("FAIL:", failure)
    sys.exit(1 if failures else 0)
