// Test-only oracle for crossgrant's evaluator: reads JSON lines on stdin and answers one JSON
// line per request on stdout, so a single Node process serves a whole test run.
//
// A policy is sent once:  {"policy": <number>, "kind": "identity" | "resource", "document": {…}}
// A request refers to policies by number:
//   {"id", "principal": "<role ARN>" | null (anonymous), "action", "resource",
//    "resourceAccount", "context": {key: string | string[]},
//    "identityPolicies": [<number>…], "resourcePolicy": <number> | null,
//    "scps", "rcps", "boundaries", "endpointPolicies": [<number>…] (optional guardrails)}
// Answer: {"id", "result": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied"} or {"id", "error"}
//
// Every request goes through runUnsafeSimulation: runSimulation drops kms:EncryptionContext:*
// context keys and filters others by its own action tables, while crossgrant sends exactly
// the context AWS would. runUnsafeSimulation skips validation, so each policy is validated
// once here (createValidatedPolicy) and a request naming an invalid one is answered as an
// error; the wrapper also gives the resource policy the metadata name the engine reads.
// runUnsafeSimulation leaves VPC endpoint policies out, so a request that carries any is
// authorized the way runUnsafeSimulation does it, with the endpoint policies passed on.
// Guardrails arrive as crossgrant's layers hold them: the SCPs of one account (with
// FullAWSAccess where crossgrant takes it as attached) and the RCPs of one account, each one
// level of the organization.
import { createInterface } from 'node:readline';
import {
  anonymousPrincipal,
  runUnsafeSimulation
} from '@cloud-copilot/iam-simulate';
import {
  createValidatedPolicy,
  loadPolicy,
  validateEndpointPolicy,
  validateIdentityPolicy,
  validateResourceControlPolicy,
  validateResourcePolicy,
  validateServiceControlPolicy
} from '@cloud-copilot/iam-policy';
import { authorize } from './node_modules/@cloud-copilot/iam-simulate/dist/esm/core_engine/CoreSimulatorEngine.js';
import { DiscoveryContextKeyConstraints } from './node_modules/@cloud-copilot/iam-simulate/dist/esm/context_keys/discoveryContextKeyConstraints.js';
import { AwsRequestImpl } from './node_modules/@cloud-copilot/iam-simulate/dist/esm/request/request.js';
import { RequestContextImpl } from './node_modules/@cloud-copilot/iam-simulate/dist/esm/requestContext.js';

const VALIDATORS = {
  identity: validateIdentityPolicy,
  resource: validateResourcePolicy,
  scp: validateServiceControlPolicy,
  rcp: validateResourceControlPolicy,
  // RCPFullAWSAccess: the one RCP AWS lets allow, which an RCP's validation refuses.
  'rcp-full-access': validateResourcePolicy,
  endpoint: validateEndpointPolicy,
  boundary: validateIdentityPolicy
};

const policies = new Map();

function define(message) {
  const validate = VALIDATORS[message.kind];
  if (!validate) throw new Error(`no policy kind ${message.kind}`);
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

function named(ids) {
  return (ids ?? []).map((id) => ({ name: `policy-${id}`, policy: policy(id) }));
}

function level(policies) {
  return policies.length === 0 ? [] : [{ orgIdentifier: 'account', policies }];
}

function answer(request) {
  const identityPolicies = named(request.identityPolicies);
  const resourcePolicy = request.resourcePolicy === null ? undefined : policy(request.resourcePolicy);
  const scps = named(request.scps);
  const rcps = named(request.rcps);
  const boundaries = named(request.boundaries);
  const endpoints = named(request.endpointPolicies);
  const errors = [
    ...[...identityPolicies, ...scps, ...rcps, ...boundaries, ...endpoints].flatMap(
      (p) => p.policy.errors
    ),
    ...(resourcePolicy?.errors ?? [])
  ];
  if (errors.length > 0) {
    return { error: `invalid policy: ${JSON.stringify(errors)}` };
  }
  const principal = request.principal === null ? anonymousPrincipal : request.principal;
  if (endpoints.length === 0) {
    const simulation = {
      request: {
        principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.resourceAccount },
        contextVariables: request.context
      },
      identityPolicies,
      resourcePolicy,
      serviceControlPolicies: level(scps),
      resourceControlPolicies: level(rcps),
      permissionBoundaryPolicies: boundaries.length === 0 ? undefined : boundaries
    };
    return { result: runUnsafeSimulation(simulation, {}) };
  }
  const load = (p) => loadPolicy(p.policy, { name: p.name });
  const analysis = authorize({
    request: new AwsRequestImpl(
      principal,
      { resource: request.resource, accountId: request.resourceAccount },
      request.action,
      new RequestContextImpl(request.context)
    ),
    sessionPolicy: undefined,
    identityPolicies: identityPolicies.map(load),
    serviceControlPolicies: level(scps.map(load)),
    resourceControlPolicies: level(rcps.map(load)),
    resourcePolicy: resourcePolicy ? loadPolicy(resourcePolicy) : undefined,
    permissionBoundaries: boundaries.length === 0 ? undefined : boundaries.map(load),
    vpcEndpointPolicies: endpoints.map(load),
    simulationParameters: {
      simulationMode: 'Strict',
      discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([])
    },
    serviceSettings: { s3: {} }
  });
  return { result: analysis.result };
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
