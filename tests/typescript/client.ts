// A portal's client of podmeta, generated from openapi.yaml by openapi-typescript and
// called through openapi-fetch: it must type-check under `tsc --strict` and get the
// answers below from the release binary (scripts/contract.sh runs it).
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const baseUrl = process.argv[2];
const client = createClient<paths>({ baseUrl });

function expect(holds: boolean, what: string, got: unknown): void {
  if (!holds) {
    console.error(`FAIL: ${what}; got ${JSON.stringify(got)}`);
    process.exit(1);
  }
  console.log(`ok: ${what}`);
}

// Never called: the generated types must refuse a lookup value that is not a string.
export function lookupValuesAreStrings() {
  // @ts-expect-error q is a string
  return client.GET("/lookup", { params: { query: { q: 12345 } } });
}

const pod = await client.GET("/pods/{pod}", { params: { path: { pod: "EU1" } } });
expect(pod.response.status === 200 && pod.data?.id === "eu1", "GET /pods/{pod}", pod.data);

const lookup = await client.GET("/lookup", {
  params: { query: { q: "https://app.eu1.mparticle.com/login" } },
});
expect(
  lookup.data?.matched_by === "url" && lookup.data.pods.map((p) => p.id).join() === "eu1",
  "GET /lookup with { q }, sent as ?q=",
  lookup.data,
);

const host = await client.GET("/lookup", { params: { query: { host: "sftp.mparticle.com" } } });
expect(host.data?.pods[0]?.id === "us1", "GET /lookup with { host }", host.data);

const none = await client.GET("/lookup", { params: { query: {} } });
expect(none.response.status === 400 && none.error?.status === 400, "GET /lookup with no parameter is a 400 problem", none.error);

const policy = await client.POST("/pods/{pod}/bucket-policy", {
  params: { path: { pod: "eu1" } },
  body: { bucket: "mp-forwarding-acme" },
});
// Three media types share the 200: the JSON policy is the one with a Statement.
const data = policy.data;
const statement = typeof data === "object" && "Statement" in data ? data.Statement : [];
expect(
  policy.response.status === 200 &&
    JSON.stringify(statement).includes("arn:aws:s3:::mp-forwarding-acme/*"),
  "POST /pods/{pod}/bucket-policy",
  policy.data,
);

const terraform = await client.POST("/pods/{pod}/bucket-policy", {
  params: { path: { pod: "eu1" }, query: { format: "terraform" } },
  body: { bucket: "mp-forwarding-acme" },
  parseAs: "text",
});
expect(
  terraform.response.status === 200 &&
    terraform.response.headers.get("content-type") === "text/plain; charset=utf-8" &&
    (terraform.data ?? "").includes('resource "aws_s3_bucket_policy"'),
  "POST /pods/{pod}/bucket-policy?format=terraform is HCL",
  terraform.data,
);

const invalid = await client.POST("/pods/{pod}/bucket-policy", {
  params: { path: { pod: "eu1" } },
  body: { bucket: "Not A Bucket" },
});
expect(invalid.response.status === 422 && (invalid.error?.errors?.length ?? 0) > 0, "an invalid bucket is a 422 that lists its rules", invalid.error);
