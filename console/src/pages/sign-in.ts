import { Api, ApiError } from '../api.js';
import { field, h, replace } from '../dom.js';
import { errorNote } from '../page.js';
import type { WhoAmI } from '../types.js';

/**
 * The sign-in form: an operator or vendor token (`berth token create`), checked with
 * GET /api/v1/whoami before it is kept. Resolves with the token and who it is.
 */
export function signIn(main: HTMLElement): Promise<{ token: string; who: WhoAmI }> {
  return new Promise((resolve) => {
    const token = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
    const status = h('div', { role: 'status', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
    const form = h(
      'form',
      { class: 'sign-in', 'aria-labelledby': 'sign-in-heading' },
      h('h1', { id: 'sign-in-heading' }, 'Sign in to the Berth console'),
      field('Token', token, 'An operator or vendor token. It is kept in this tab only and sent to this control plane alone.'),
      submit,
      status,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void (async () => {
        submit.disabled = true;
        const secret = token.value.trim();
        try {
          resolve({ token: secret, who: await new Api(secret).get<WhoAmI>('/whoami') });
        } catch (err) {
          replace(status, errorNote(err instanceof ApiError && err.status === 401 ? new Error('That token is not valid here.') : err));
          token.focus();
        } finally {
          submit.disabled = false;
        }
      })();
    });
    document.title = 'Sign in · Berth console';
    replace(main, form);
    token.focus();
  });
}
