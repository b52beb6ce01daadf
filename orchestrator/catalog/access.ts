import { HttpProblem } from '../http/problem.js';

/** The vendor a `vendor:<name>` role speaks for; undefined for admin and operator. */
export function vendorOfRole(role: string): string | undefined {
  return role.startsWith('vendor:') ? role.slice('vendor:'.length) : undefined;
}

export const canReadCatalog = (role: string) => role === 'admin' || role === 'operator' || role.startsWith('vendor:');
export const canWriteCatalog = (role: string) => role === 'admin' || role.startsWith('vendor:');

/**
 * A vendor sees and changes only its own apps. Another vendor's app answers 403, not 404: the
 * app id space is shared, so its existence is not a secret worth a misleading answer.
 */
export function requireOwnApp(role: string, app: { id: string; vendor: string }): void {
  const vendor = vendorOfRole(role);
  if (vendor !== undefined && vendor !== app.vendor) {
    throw new HttpProblem(403, 'catalog.other_vendor', 'The app belongs to another vendor', { detail: `vendor '${vendor}' may not touch app '${app.id}'` });
  }
}
