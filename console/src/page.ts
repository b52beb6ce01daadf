import { ApiError, type Api } from './api.js';
import { h, replace, type Child } from './dom.js';
import type { WhoAmI } from './types.js';

/** What a page is given: the API, who signed in, where to draw, and a signal for when it is left. */
export interface PageContext {
  api: Api;
  who: WhoAmI;
  main: HTMLElement;
  /** The route's parameters: `#/devices/d1` gives `['d1']`. */
  params: string[];
  /** Aborted when the operator leaves the page: its polls stop and late answers are dropped. */
  signal: AbortSignal;
}

export type Page = (ctx: PageContext) => Promise<void>;

export const isOperator = (who: WhoAmI): boolean => who.role === 'admin' || who.role === 'operator';

/** Draws the page's heading and body into main. */
export function show(ctx: PageContext, title: string, ...body: Child[]): void {
  document.title = `${title} · Berth console`;
  replace(ctx.main, h('h1', {}, title), ...body);
}

/** For a vendor on an operator's page: says so, rather than a bare 403. True when the page stops here. */
export function operatorsOnly(ctx: PageContext, title: string): boolean {
  if (isOperator(ctx.who)) return false;
  show(
    ctx,
    title,
    h(
      'p',
      { class: 'notice' },
      `This page is for fleet operators. You are signed in as ${ctx.who.vendor ? `vendor ${ctx.who.vendor}` : ctx.who.role}: `,
      h('a', { href: '#/catalog' }, 'your catalog'),
      ' is what your token can read.',
    ),
  );
  return true;
}

/** An error as the page shows it: an alert, so a screen reader hears it at once. */
export function errorNote(err: unknown): HTMLElement {
  const message = err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err);
  return h('p', { class: 'error', role: 'alert' }, message);
}

/**
 * Runs `work` for a button: the button is disabled meanwhile, the outcome goes to `status` (a
 * live region, so it is heard), and `after` redraws the page, which decides what is enabled next.
 */
export async function act(button: HTMLButtonElement, status: HTMLElement, work: () => Promise<string>, after: () => Promise<void>): Promise<void> {
  button.disabled = true;
  try {
    const done = await work();
    button.disabled = false;
    replace(status, done);
    await after();
  } catch (err) {
    button.disabled = false;
    replace(status, errorNote(err));
  }
}

/** Calls `tick` now and then every `intervalMs()` until `signal` aborts; a failed tick does not stop it. */
export async function poll(signal: AbortSignal, intervalMs: () => number, tick: () => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    try {
      await tick();
    } catch (err) {
      if (signal.aborted) return;
      console.warn('console: refresh failed', err);
    }
    await sleep(intervalMs(), signal);
  }
}

/**
 * A test for "has this answer changed since the last poll": pages redraw only on change, so a
 * poll never moves keyboard focus or a screen reader's place for nothing.
 */
export function changeTracker(): (value: unknown) => boolean {
  let last: string | undefined;
  return (value) => {
    const next = JSON.stringify(value);
    if (next === last) return false;
    last = next;
    return true;
  };
}

/** Waits `ms`, or less when `signal` aborts; the abort listener goes with the wait, so a long poll adds none. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      window.clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = window.setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
