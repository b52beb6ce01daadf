/**
 * The signed-in token, kept in sessionStorage: it lives as long as the tab, is never sent by the
 * browser on its own (no cookie, so no cross-site request can use it), and is gone on sign-out.
 */
const KEY = 'berth.console.token';

export function savedToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
