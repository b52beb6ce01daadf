import type { KeyObject } from 'node:crypto';
import { digestHex, type Digest } from '../../common/digest.js';
import { BerthError } from '../../common/errors.js';
import type { AttachedBundle } from '../../oci/artifact.js';
import { SLSA_PROVENANCE_V1 } from '../signing/provenance.js';
import { readStatement } from '../signing/statement.js';
import { claimedPredicateType } from '../signing/verify.js';
import { openEnvelope } from './envelope.js';
import type { CompiledLayout, CompiledStep } from './layout.js';
import { IN_TOTO_LINK_V03, provenanceClaim, readLink, type LinkClaim } from './link.js';
import { checkRules, type StepArtifacts } from './rule-engine.js';

/** What admission records of a passed layout: each step and the functionaries whose links counted. */
export interface VerifiedLayout {
  steps: Array<{ name: string; functionaries: string[] }>;
}

/**
 * A version's attestations against its vendor's in-toto layout (docs/in-toto.md), in the
 * order in-toto verifies: the layout is current; every link is well formed and signed by a
 * functionary; each step has links from `threshold` distinct functionaries that agree; every
 * step's artifact rules hold; and some step's products include the component itself, so the
 * chain ends in what is being admitted. Any failure refuses the version with an `in_toto.*` code.
 */
export function verifyLayout(layout: CompiledLayout, bundles: readonly AttachedBundle[], component: Digest, now: Date): VerifiedLayout {
  if (layout.expires.getTime() <= now.getTime())
    throw new BerthError('in_toto.layout_expired', `the vendor's in-toto layout expired at ${layout.expires.toISOString()}`);
  const links = signedLinks(layout, bundles);
  const steps = new Map<string, StepArtifacts>();
  const verified: VerifiedLayout = { steps: [] };
  for (const step of layout.steps) {
    const { artifacts, functionaries } = agreedArtifacts(step, links.get(step.name) ?? []);
    steps.set(step.name, artifacts);
    verified.steps.push({ name: step.name, functionaries });
  }
  for (const step of layout.steps) {
    checkRules(step.name, 'MATERIALS', step.expectedMaterials, steps.get(step.name)!, steps);
    checkRules(step.name, 'PRODUCTS', step.expectedProducts, steps.get(step.name)!, steps);
  }
  const hex = digestHex(component);
  if (![...steps.values()].some((s) => [...s.products.values()].includes(hex)))
    throw new BerthError('in_toto.rule_violated', `no step of the vendor's in-toto layout has the component ${component} among its products`);
  return verified;
}

interface SignedLink {
  keyId: string;
  claim: LinkClaim;
}

/** The attestations that are evidence for the layout, opened and read, by step; links of steps the layout lacks are left out. */
function signedLinks(layout: CompiledLayout, bundles: readonly AttachedBundle[]): Map<string, SignedLink[]> {
  const byStep = new Map<string, SignedLink[]>();
  const provenanceSteps = layout.steps.filter((s) => s.provenance);
  bundles.forEach((b, i) => {
    if (b.kind !== 'dsse-envelope') return;
    // The signed payload says what it is; the referrer's annotation (unsigned) only when the payload cannot be read.
    const claimed = claimedPredicateType(b.bytes) ?? b.predicateType;
    const what = `attestation ${i + 1} (${claimed ?? 'unknown predicate'})`;
    if (claimed === IN_TOTO_LINK_V03) {
      const opened = openEnvelope(b.bytes, layout.keys, what);
      const claim = readLink(opened.payload, what);
      const step = layout.steps.find((s) => s.name === claim.step);
      if (step) add(byStep, step, { keyId: opened.keyId, claim }, what);
    } else if (claimed === SLSA_PROVENANCE_V1 && provenanceSteps.length > 0) {
      const opened = openEnvelope(b.bytes, functionariesOf(provenanceSteps), what);
      const statement = readProvenance(opened.payload, what);
      for (const step of provenanceSteps.filter((s) => s.functionaries.has(opened.keyId)))
        add(byStep, step, { keyId: opened.keyId, claim: provenanceClaim(statement, step.name) }, what);
    }
  });
  return byStep;
}

function add(byStep: Map<string, SignedLink[]>, step: CompiledStep, link: SignedLink, what: string): void {
  if (!step.functionaries.has(link.keyId))
    throw new BerthError(
      'in_toto.unknown_functionary',
      `${what} for step '${step.name}' is signed by key ${link.keyId}, which is not a functionary of that step`,
    );
  byStep.set(step.name, [...(byStep.get(step.name) ?? []), link]);
}

function functionariesOf(steps: readonly CompiledStep[]): Map<string, KeyObject> {
  return new Map(steps.flatMap((s) => [...s.functionaries]));
}

/** A step's links: at least `threshold` distinct functionaries, all recording the same artifacts (in-toto's threshold constraint). */
function agreedArtifacts(step: CompiledStep, links: readonly SignedLink[]): { artifacts: StepArtifacts; functionaries: string[] } {
  if (links.length === 0) throw new BerthError('in_toto.step_missing', `no link of step '${step.name}' signed by one of its functionaries is attached`);
  const functionaries = [...new Set(links.map((l) => l.keyId))];
  if (functionaries.length < step.threshold)
    throw new BerthError('in_toto.threshold', `step '${step.name}' needs links from ${step.threshold} distinct functionaries and has ${functionaries.length}`);
  const first = links[0]!.claim;
  if (links.some((l) => !sameArtifacts(l.claim, first)))
    throw new BerthError('in_toto.threshold', `the links of step '${step.name}' disagree about its materials or products`);
  return { artifacts: first, functionaries };
}

function sameArtifacts(a: StepArtifacts, b: StepArtifacts): boolean {
  const same = (x: ReadonlyMap<string, string>, y: ReadonlyMap<string, string>) => x.size === y.size && [...x].every(([k, v]) => y.get(k) === v);
  return same(a.materials, b.materials) && same(a.products, b.products);
}

/** A functionary-signed provenance that is not a statement is a bad link like any other. */
function readProvenance(payload: Buffer, what: string): ReturnType<typeof readStatement> {
  try {
    return readStatement(payload, 'in_toto');
  } catch (err) {
    throw new BerthError('in_toto.bad_link', `${what}: ${(err as Error).message}`);
  }
}
