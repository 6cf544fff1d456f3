// Test-only oracle for crossgrant's evaluator: reads JSON lines on stdin and answers one JSON
// line per request on stdout, so a single Node process serves a whole test run.
//
// A policy is sent once:  {"policy": <number>, "kind": "identity" | "resource", "document": {…}}
// A request refers to policies by number:
//   {"id", "principal": "<role ARN>" | null (anonymous), "action", "resource",
//    "resourceAccount", "context": {key: string | string[]},
//    "identityPolicies": [<number>…], "resourcePolicy": <number> | null}
// Answer: {"id", "result": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied"} or {"id", "error"}
//
// Every request goes through runUnsafeSimulation: runSimulation drops kms:EncryptionContext:*
// context keys and filters others by its own action tables, while crossgrant sends exactly
// the context AWS would. runUnsafeSimulation skips validation, so each policy is validated
// once here (createValidatedPolicy) and a request naming an invalid one is answered as an
// error; the wrapper also gives the resource policy the metadata name the engine reads.
import { createInterface } from 'node:readline';
import {
  anonymousPrincipal,
  runUnsafeSimulation
} from '@cloud-copilot/iam-simulate';
import {
  createValidatedPolicy,
  validateIdentityPolicy,
  validateResourcePolicy
} from '@cloud-copilot/iam-policy';

const policies = new Map();

function define(message) {
  const validate = message.kind === 'identity' ? validateIdentityPolicy : validateResourcePolicy;
  policies.set(
    message.policy,
    createValidatedPolicy(message.document, validate, { name: `policy-${message.policy}` })
  );
}

function policy(id) {
  const found = policies.get(id);
  if (!found) throw new Error(`policy ${id} was never sent`);
  return found;
}

function answer(request) {
  const identityPolicies = request.identityPolicies.map((id) => ({
    name: `policy-${id}`,
    policy: policy(id)
  }));
  const resourcePolicy = request.resourcePolicy === null ? undefined : policy(request.resourcePolicy);
  const errors = [
    ...identityPolicies.flatMap((p) => p.policy.errors),
    ...(resourcePolicy?.errors ?? [])
  ];
  if (errors.length > 0) {
    return { error: `invalid policy: ${JSON.stringify(errors)}` };
  }
  const simulation = {
    request: {
      principal: request.principal === null ? anonymousPrincipal : request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: request.context
    },
    identityPolicies,
    resourcePolicy,
    serviceControlPolicies: [],
    resourceControlPolicies: []
  };
  return { result: runUnsafeSimulation(simulation, {}) };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === '') continue;
  let id = null;
  try {
    const message = JSON.parse(line);
    if (message.policy !== undefined) {
      define(message);
      continue;
    }
    const request = message;
    id = request.id;
    const reply = answer(request);
    process.stdout.write(JSON.stringify({ id, ...reply }) + '\n');
  } catch (error) {
    const text = String(error?.stack ?? error);
    if (id === null) {
      // Not a request (a policy definition or garbage): nothing to answer, so say it aloud.
      process.stderr.write(`simulator: ${text}\n`);
    } else {
      process.stdout.write(JSON.stringify({ id, error: text }) + '\n');
    }
  }
}
