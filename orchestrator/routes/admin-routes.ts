import { Hono } from 'hono';
import { BerthError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { fingerprintOf, x509 } from '../../trust/x509.js';
import {
  type Answer,
  caRetired,
  caRotated,
  desiredStateKeyRotated,
  fleetSigningRetired,
  fleetSigningRotated,
  manufacturerTrusted,
  caRotationBody,
  deviceRevocationBody,
  enrollmentTokenBody,
  manufacturerBody,
  ONBOARDING_REQUEST_ID,
  onboardingApprovalBody,
  retirementBody,
  signingRotationBody,
  tokenBody,
} from '../admin/schema.js';
import { deviceRevoked } from '../../wire/devices.js';
import { enrollmentTokenCreated, tokenCreated } from '../../wire/tokens.js';
import { onboardingDecided } from '../../wire/onboarding.js';
import { createEnrollmentToken, createOperatorToken } from '../admin/tokens.js';
import { approve, deny, revoke, type LifecycleDeps } from '../devices/lifecycle.js';
import { emptyBody, readJson } from '../http/body.js';
import type { AppEnv } from '../http/env.js';
import { actorOf, requireOperator, roles } from '../http/operator-auth.js';
import type { DesiredStateKeyRotation } from '../desired-state/signing-key.js';
import { HttpProblem } from '../http/problem.js';
import { pathParam } from '../http/path-params.js';
import type { FleetAuthority } from '../pki/fleet-authority.js';
import { rotateCa } from '../pki/ca-rotation-input.js';
import { strictPemBlock } from '../http/pem-input.js';
import { insertManufacturer, putSetting } from '../store/authorities.js';
import * as devices from '../store/devices.js';
import * as requests from '../store/requests.js';
import type { Store } from '../store/store.js';

export interface AdminDeps extends LifecycleDeps {
  store: Store;
  authority: FleetAuthority;
  logger: Logger;
  desiredStateKeys?: DesiredStateKeyRotation;
  fleetSigningRotation?: FleetSigningRotation;
}

/** What a rotation of the fleet signing CA and/or TSA answers (admin/schema.ts). */
export type FleetSigningRotated = Answer<typeof fleetSigningRotated>;

export interface FleetSigningRotation {
  rotate(what: { signingCa: boolean; timestampAuthority: boolean }): Promise<FleetSigningRotated>;
  /** Takes a rotated-out CA or TSA out of the served roots. */
  retire(fingerprint: string): Promise<Omit<FleetSigningRotated, 'signingCa' | 'timestampAuthority'>>;
}

/** Operator endpoints under /api/v1/admin, bearer tokens with roles. Handlers only parse and call. */
export function adminRoutes(deps: AdminDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const asOperator = requireOperator(deps, roles.operator);
  const asAdmin = requireOperator(deps, roles.admin);

  app.post('/tokens', asAdmin, async (c) => {
    const body = await readJson(c, tokenBody);
    const created = await badInput(() => createOperatorToken(deps.store, deps.logger, { ...body, by: actorOf(c.get('operator')) }));
    return c.json(created satisfies Answer<typeof tokenCreated>, 201);
  });

  app.post('/enrollment-tokens', asOperator, async (c) => {
    const body = await readJson(c, enrollmentTokenBody);
    const created = await badInput(() => createEnrollmentToken(deps.store, deps.logger, { ...body, by: actorOf(c.get('operator')) }));
    return c.json(created satisfies Answer<typeof enrollmentTokenCreated>, 201);
  });

  app.get('/devices', asOperator, async (c) => c.json({ devices: await devices.listDevices(deps.store) }));

  app.post('/device-revocations', asOperator, async (c) => {
    const body = await readJson(c, deviceRevocationBody);
    const certificates = await revoke(deps, body.deviceId, actorOf(c.get('operator')), body.reason);
    return c.json({ deviceId: body.deviceId, status: 'revoked', certificatesRevoked: certificates } satisfies Answer<typeof deviceRevoked>);
  });

  app.get('/onboarding-requests', asOperator, async (c) => {
    const pending = await requests.listPendingRequests(deps.store);
    return c.json({ requests: pending.map(({ csrPem: _csr, ...r }) => r) });
  });

  app.post('/onboarding-requests/:id/:decision{approve|deny}', asOperator, async (c) => {
    const id = pathParam(c, 'id', ONBOARDING_REQUEST_ID);
    if (c.req.param('decision') === 'approve') {
      const cert = await approve(deps, id, actorOf(c.get('operator')));
      return c.json({ requestId: id, status: 'approved', deviceId: cert.deviceId } satisfies Answer<typeof onboardingDecided>);
    }
    await deny(deps, id, actorOf(c.get('operator')));
    return c.json({ requestId: id, status: 'denied' } satisfies Answer<typeof onboardingDecided>);
  });

  app.put('/settings/onboarding-approval', asAdmin, async (c) => {
    const body = await readJson(c, onboardingApprovalBody);
    await putSetting(deps.store, 'onboarding_approval_required', body.required);
    return c.json(body);
  });

  app.post('/manufacturers', asAdmin, async (c) => {
    const body = await readJson(c, manufacturerBody);
    let cert: x509.X509Certificate;
    const der = strictPemBlock('certificate', body.certificate, 'CERTIFICATE', 'manufacturer.bad_certificate');
    try {
      cert = new x509.X509Certificate(der);
    } catch {
      throw new HttpProblem(422, 'manufacturer.bad_certificate', 'The manufacturer CA certificate does not parse', {
        errors: [{ field: 'certificate', message: 'must be one PEM certificate' }],
      });
    }
    if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca) {
      throw new HttpProblem(422, 'manufacturer.not_a_ca', 'The certificate is not a CA', {
        errors: [{ field: 'certificate', message: 'basicConstraints cA must be true' }],
      });
    }
    const fingerprint = fingerprintOf(cert);
    if (!(await insertManufacturer(deps.store, { name: body.name, fingerprint, certificatePem: body.certificate }))) {
      throw new HttpProblem(409, 'manufacturer.exists', 'That manufacturer or certificate is already trusted');
    }
    return c.json({ name: body.name, fingerprint } satisfies Answer<typeof manufacturerTrusted>, 201);
  });

  app.post('/ca/rotations', asAdmin, async (c) => {
    const body = await readJson(c, caRotationBody);
    return c.json((await rotateCa(deps.authority, body)) satisfies Answer<typeof caRotated>, 201);
  });

  // A new desired-state signing key, endorsed by the current one: devices follow without re-onboarding.
  app.post('/desired-state/key-rotations', asAdmin, async (c) => {
    await readJson(c, emptyBody);
    if (!deps.desiredStateKeys) throw new HttpProblem(404, 'request.not_found', 'This control plane signs no desired state');
    return c.json((await deps.desiredStateKeys.rotate()) satisfies Answer<typeof desiredStateKeyRotated>, 201);
  });

  // A new fleet signing CA and/or TSA; the old ones stay in the served roots, and devices follow
  // through the signingRootsDigest of their signed desired state.
  app.post('/signing/rotations', asAdmin, async (c) => {
    const body = await readJson(c, signingRotationBody);
    if (!deps.fleetSigningRotation) throw new HttpProblem(404, 'request.not_found', 'This control plane runs no fleet signing CA');
    if (!body.signingCa && !body.timestampAuthority) {
      throw new HttpProblem(422, 'request.invalid', 'Nothing to rotate', {
        errors: [{ field: 'signingCa', message: 'signingCa or timestampAuthority must be true' }],
      });
    }
    const rotated = await deps.fleetSigningRotation.rotate(body);
    deps.logger.info({ ...rotated, by: actorOf(c.get('operator')) }, 'fleet signing roots rotated');
    return c.json(rotated, 201);
  });

  app.post('/signing/retirements', asAdmin, async (c) => {
    const body = await readJson(c, retirementBody);
    if (!deps.fleetSigningRotation) throw new HttpProblem(404, 'request.not_found', 'This control plane runs no fleet signing CA');
    try {
      const retired = await deps.fleetSigningRotation.retire(body.fingerprint);
      deps.logger.info({ fingerprint: body.fingerprint, ...retired, by: actorOf(c.get('operator')) }, 'fleet signing root retired');
      return c.json({ fingerprint: body.fingerprint, ...retired } satisfies Answer<typeof fleetSigningRetired>);
    } catch (err) {
      if (err instanceof BerthError && err.code === 'signing.root_in_use')
        throw new HttpProblem(409, err.code, 'The signing root is in use', { detail: err.message });
      if (err instanceof BerthError && err.code === 'signing.unknown_root')
        throw new HttpProblem(404, err.code, 'No such signing root', { detail: err.message });
      throw err;
    }
  });

  app.post('/ca/retirements', asAdmin, async (c) => {
    const body = await readJson(c, retirementBody);
    return c.json({ fingerprint: body.fingerprint, sequence: await deps.authority.retire(body.fingerprint) } satisfies Answer<typeof caRetired>);
  });
  return app;
}

/** Plain functions throw BerthError for bad input; at the edge that is a 422 naming it. */
async function badInput<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof BerthError && !(err instanceof HttpProblem)) {
      throw new HttpProblem(422, err.code, 'The request was refused', { detail: err.message, errors: [{ field: fieldOf(err.code), message: err.message }] });
    }
    throw err;
  }
}

/** `token.bad_device_id` → `deviceId`: the request field a BerthError code is about. */
function fieldOf(code: string): string {
  const part = code.split('.')[1]?.replace(/^bad_/, '');
  return part ? part.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()) : 'body';
}
