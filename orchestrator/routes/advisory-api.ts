import { MEDIA_TYPE } from '../../oci/media-types.js';
import { advisoryIdSchema, exposureReportShown } from '../../wire/advisory.js';
import {
  advisoriesListed,
  advisoryBody,
  advisoryCreated,
  advisoryShown,
  exposureQuery,
  vexBody,
  vexDocumentBody,
  vexExportQuery,
  vexStated,
} from '../advisories/schema.js';
import { apiGroup } from '../openapi/operation.js';

/** What advisoryRoutes and vexRoutes (advisory-routes.ts, vex-routes.ts) serve under /api/v1, for the OpenAPI document. */

const UNKNOWN = 'No such advisory, or not one the caller may see (advisory.unknown)';
const STATED = {
  description: 'The statements recorded',
  schema: vexStated,
};

export const advisoryApi = apiGroup('Advisories', [
  {
    method: 'post',
    path: '/advisories',
    summary: 'File a security advisory',
    description: 'Its action (hold, roll back or stop) applies to the fleet at once (docs/vulnerability-response.md).',
    access: 'catalog-writer',
    body: advisoryBody,
    responses: {
      201: { description: 'The advisory and what it did', schema: advisoryCreated },
    },
    problems: {
      403: 'A vendor files only for its own apps (advisory.other_vendor, catalog.other_vendor)',
      409: 'An advisory with that id exists (advisory.exists)',
    },
  },
  {
    method: 'get',
    path: '/advisories',
    summary: 'List advisories (a vendor sees those of its apps)',
    access: 'catalog-reader',
    responses: { 200: { description: 'The advisories', schema: advisoriesListed } },
  },
  {
    method: 'get',
    path: '/advisories/:id/exposure',
    summary: 'Which devices run an affected version, grouped by a label',
    access: 'operator',
    params: { id: advisoryIdSchema },
    query: exposureQuery,
    responses: {
      200: {
        description: 'The exposure report (JSON, or CSV with `format=csv`)',
        schema: exposureReportShown,
        otherContent: { 'text/csv': 'The same report as CSV, with a header row (`format=csv`)' },
      },
    },
    problems: { 404: UNKNOWN },
  },
  {
    method: 'get',
    path: '/advisories/:id',
    summary: 'Read an advisory',
    access: 'catalog-reader',
    params: { id: advisoryIdSchema },
    responses: { 200: { description: 'The advisory', schema: advisoryShown } },
    problems: { 404: UNKNOWN },
  },
]);

export const vexApi = apiGroup('Advisories', [
  {
    method: 'put',
    path: '/advisories/:id/vex',
    summary: 'State VEX statements about an advisory',
    access: 'catalog-writer',
    params: { id: advisoryIdSchema },
    body: vexBody,
    responses: { 200: STATED },
    problems: { 403: 'The app belongs to another vendor (catalog.other_vendor)', 404: UNKNOWN },
  },
  {
    method: 'post',
    path: '/vex',
    summary: 'Import an OpenVEX or CycloneDX VEX document',
    description: 'Its statements, for any advisories the caller may state about, are recorded all or none.',
    access: 'catalog-writer',
    body: vexDocumentBody,
    responses: { 200: STATED },
    problems: { 403: 'The app belongs to another vendor (catalog.other_vendor)', 404: UNKNOWN },
  },
  {
    method: 'get',
    path: '/advisories/:id/vex',
    summary: 'Export an advisory’s VEX statements',
    access: 'catalog-reader',
    params: { id: advisoryIdSchema },
    query: vexExportQuery,
    responses: {
      200: {
        description: 'An OpenVEX document (default), CycloneDX VEX (`format=cyclonedx`, as ' + MEDIA_TYPE.cyclonedxJson + ') or Berth’s own list',
        bodyDescription: 'A VEX document in the format asked for',
        otherContent: { [MEDIA_TYPE.cyclonedxJson]: 'A CycloneDX VEX document (`format=cyclonedx`)' },
      },
    },
    problems: { 404: UNKNOWN },
  },
]);
