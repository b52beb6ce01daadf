/**
 * The test's own host side of `berth:fixtures/token` (test/fixtures/wit/fixtures.wit), which
 * Berth never offers to an app: the echo fixture imports it so that resources cross the
 * boundary in both directions. An engine links this class as the resource's host
 * implementation: the guest's `constructor(label)` is `new EchoToken(label)`, its `label()`
 * method is `label()`, and a token the host passes in must come back as the same object.
 */
export class EchoToken {
  readonly #label: string;

  constructor(label: string) {
    this.#label = label;
  }

  label(): string {
    return this.#label;
  }
}

/** The imported interface, unversioned, as jco's import object and Berth's linker key it. */
export const TOKEN_INTERFACE = 'berth:fixtures/token';

/** jco's shape of the import: the interface maps the resource's class name to the class. */
export function tokenHostImports(): Record<string, unknown> {
  return { [TOKEN_INTERFACE]: { Token: EchoToken } };
}
