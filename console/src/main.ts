import { Api } from './api.js';
import { replace } from './dom.js';
import type { Page, PageContext } from './page.js';
import { auditPage } from './pages/audit.js';
import { catalogPage } from './pages/catalog.js';
import { deploymentPage } from './pages/deployment.js';
import { deploymentsPage } from './pages/deployments.js';
import { devicePage } from './pages/device.js';
import { fleetPage } from './pages/fleet.js';
import { onboardingPage } from './pages/onboarding.js';
import { signIn } from './pages/sign-in.js';
import { forgetToken, saveToken, savedToken } from './session.js';
import type { WhoAmI } from './types.js';

/**
 * The pages by the first part of their `#/` route; the rest of the route are their parameters.
 * `#/deployments` lists, `#/deployments/<id>` shows one; `#/devices/<id>` likewise.
 */
const PAGES: Record<string, { list: Page; one?: Page }> = {
  fleet: { list: fleetPage },
  devices: { list: fleetPage, one: devicePage },
  deployments: { list: deploymentsPage, one: deploymentPage },
  onboarding: { list: onboardingPage },
  catalog: { list: catalogPage, one: catalogPage },
  audit: { list: auditPage },
};

const element = (id: string): HTMLElement => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the console page has no #${id}`);
  return found;
};

async function start(): Promise<void> {
  const main = element('main');
  const nav = element('nav');
  const whoLabel = element('who');
  const signOut = element('sign-out');
  // The skip link moves focus without touching the route (the hash belongs to the router).
  document.querySelector('.skip-link')?.addEventListener('click', (event) => {
    event.preventDefault();
    main.focus();
  });

  let session: { api: Api; who: WhoAmI } | undefined;
  let leave: AbortController | undefined;

  // Sign-out, or a 401 on any call (several in flight may each report one: the first ends it).
  const end = () => {
    if (!session) return;
    forgetToken();
    leave?.abort();
    session = undefined;
    nav.hidden = signOut.hidden = true;
    replace(whoLabel);
    void begin();
  };
  signOut.addEventListener('click', end);

  /** Draws the page the hash names; the page before it stops polling. */
  const route = () => {
    if (!session) return;
    const [name = '', ...params] = location.hash
      .replace(/^#\/?/, '')
      .split('/')
      .map((part) => {
        try {
          return decodeURIComponent(part);
        } catch {
          return part; // a malformed escape names no page or id: the page says so
        }
      });
    const entry = PAGES[name];
    const page = entry && (params.length ? entry.one : entry.list);
    if (!page) {
      location.replace(session.who.vendor ? '#/catalog' : '#/fleet');
      return;
    }
    leave?.abort();
    leave = new AbortController();
    for (const link of nav.querySelectorAll('a')) {
      if (link.getAttribute('href') === `#/${name === 'devices' ? 'fleet' : name}`) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    const ctx: PageContext = { ...session, main, params, signal: leave.signal };
    void page(ctx).catch((err: unknown) => {
      if (!ctx.signal.aborted) console.error('console: page failed', err);
    });
    // Focus moves to the new page, so keyboard and screen-reader users start at its top.
    main.focus();
  };
  window.addEventListener('hashchange', route);

  /** Signs in (from this tab's kept token when it is still good), then shows the page the hash names. */
  const begin = async () => {
    const kept = savedToken();
    let signedIn: { token: string; who: WhoAmI } | undefined;
    if (kept)
      signedIn = await new Api(kept).get<WhoAmI>('/whoami').then(
        (who) => ({ token: kept, who }),
        () => undefined,
      );
    signedIn ??= await signIn(main);
    saveToken(signedIn.token);
    session = { api: new Api(signedIn.token, end), who: signedIn.who };
    replace(whoLabel, `${signedIn.who.name} (${signedIn.who.role})`);
    nav.hidden = signOut.hidden = false;
    route();
  };
  await begin();
}

void start();
