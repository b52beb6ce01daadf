import { appIdSchema, vendorNameSchema } from '../../wire/ids.js';
import { appBody, trustPolicyBody, vendorBody, versionBody } from '../catalog/schema.js';
import { appShown, appsListed, trustPolicyReplaced, vendorRegistered, vendorShown, vendorsListed, versionShown, versionsListed } from '../../wire/catalog.js';
import { REGISTRY_PROBLEMS } from '../catalog/refusal.js';
import { apiGroup } from '../openapi/operation.js';

/** What vendorRoutes (vendor-routes.ts) serves under /api/v1/catalog, for the OpenAPI document. */

const OTHER_VENDOR = 'The app belongs to another vendor (catalog.other_vendor)';
const UNKNOWN_APP = 'No such app (catalog.unknown_app)';

export const vendorApi = apiGroup('Catalog', [
  {
    method: 'post',
    path: '/vendors',
    summary: 'Register a vendor with its trust policy',
    access: 'admin',
    body: vendorBody,
    responses: { 201: { description: 'The vendor', schema: vendorRegistered } },
    problems: { 409: 'That vendor is registered already (catalog.vendor_exists)' },
  },
  {
    method: 'get',
    path: '/vendors',
    summary: 'List vendors',
    description: 'Admins and operators read every vendor; a vendor token reads itself alone.',
    access: 'catalog-reader',
    responses: { 200: { description: 'The vendors, by name', schema: vendorsListed } },
  },
  {
    method: 'get',
    path: '/vendors/:name',
    summary: 'Read a vendor',
    access: 'catalog-reader',
    params: { name: vendorNameSchema },
    responses: { 200: { description: 'The vendor', schema: vendorShown } },
    problems: { 403: 'A vendor reads only itself (catalog.other_vendor)', 404: 'No such vendor (catalog.unknown_vendor)' },
  },
  {
    method: 'put',
    path: '/vendors/:name/trust-policy',
    summary: 'Replace a vendor’s trust policy',
    description: 'Deployments of the vendor’s apps are re-rendered for their devices in the same transaction.',
    access: 'admin',
    params: { name: vendorNameSchema },
    body: trustPolicyBody,
    responses: { 200: { description: 'The policy now in force', schema: trustPolicyReplaced } },
    problems: { 404: 'No such vendor (catalog.unknown_vendor)' },
  },
  {
    method: 'get',
    path: '/apps',
    summary: 'List apps (a vendor sees its own)',
    access: 'catalog-reader',
    responses: { 200: { description: 'The apps', schema: appsListed } },
  },
  {
    method: 'post',
    path: '/apps',
    summary: 'Create an app',
    access: 'catalog-writer',
    body: appBody,
    responses: { 201: { description: 'The app', schema: appShown } },
    problems: { 403: 'A vendor creates apps only under its own name (catalog.other_vendor)', 409: 'An app with that id exists (catalog.app_exists)' },
  },
  {
    method: 'get',
    path: '/apps/:id',
    summary: 'Read an app',
    access: 'catalog-reader',
    params: { id: appIdSchema },
    responses: { 200: { description: 'The app', schema: appShown } },
    problems: { 403: OTHER_VENDOR, 404: UNKNOWN_APP },
  },
  {
    method: 'get',
    path: '/apps/:id/versions',
    summary: 'List an app’s versions',
    access: 'catalog-reader',
    params: { id: appIdSchema },
    responses: {
      200: {
        description: 'The versions',
        schema: versionsListed,
      },
    },
    problems: { 403: OTHER_VENDOR, 404: UNKNOWN_APP },
  },
  {
    method: 'post',
    path: '/apps/:id/versions',
    summary: 'Admit a version: resolve, verify and record its artifact',
    description: 'The artifact is fetched and verified against the vendor’s trust policy (docs/admission.md); digest, size and imports come from the bytes.',
    access: 'catalog-writer',
    params: { id: appIdSchema },
    body: versionBody,
    responses: {
      201: { description: 'The admitted version: its component (digest, size, imports) and what admission verified', schema: versionShown },
    },
    problems: {
      403: OTHER_VENDOR,
      404: UNKNOWN_APP,
      409: 'That version is registered already, or the trust policy changed during admission (catalog.version_exists, catalog.policy_changed)',
      422: 'The artifact could not be resolved or failed verification (admission.*)',
      ...REGISTRY_PROBLEMS,
    },
  },
  {
    method: 'delete',
    path: '/apps/:id/versions/:version',
    summary: 'Retire a version',
    description: 'Refused while a deployment needs it; the mirror is cleaned up after (docs/admission.md).',
    access: 'catalog-writer',
    params: { id: appIdSchema },
    responses: { 204: { description: 'Retired' } },
    problems: {
      403: OTHER_VENDOR,
      404: 'No such app or version (catalog.unknown_app, catalog.unknown_version)',
      409: 'Deployments still use that version (catalog.version_in_use)',
      // Checked by the service after ownership, so it answers as a body field would.
      422: 'The version is not a Margo version; `errors` names it (request.invalid)',
    },
  },
]);
