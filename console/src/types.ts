/**
 * What the API answers, as the console reads it: the types of the very schemas the server
 * declares its answers with (wire/, which its OpenAPI document is made from too), so the two
 * cannot drift apart. Types only: the bundle takes no zod and no schema from wire/.
 */
export type { AuditEvent, AuditPage } from '../../wire/audit.js';
export type { AppShown as App, AppsListed, VendorShown as Vendor, VersionShown as AppVersion, VersionsListed } from '../../wire/catalog.js';
export type {
  DeploymentShown as Deployment,
  DeploymentCreated,
  DeploymentRolledBack,
  DeploymentsListed,
  DeploymentStatusShown as DeploymentStatus,
  DeploymentWithPlacements,
} from '../../wire/deployment.js';
export type { Fleet, FleetApp, FleetDevice } from '../../wire/fleet.js';
export type { PendingRequest as OnboardingRequest, OnboardingRequestsListed } from '../../wire/onboarding.js';
export type { WhoAmI } from '../../wire/whoami.js';
