import { seg } from '../api.js';
import { h, replace, table, time } from '../dom.js';
import { act, changeTracker, errorNote, operatorsOnly, poll, show, type Page } from '../page.js';
import type { OnboardingRequest, OnboardingRequestsListed } from '../types.js';

/** Devices waiting for an operator's approval (docs/onboarding.md, `requireApproval`): approve or deny each. */
export const onboardingPage: Page = async (ctx) => {
  const title = 'Pending onboarding requests';
  if (operatorsOnly(ctx, title)) return;
  const list = h('div', {});
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  show(
    ctx,
    title,
    h('p', {}, 'A device that onboards while approval is required waits here; it keeps polling and gets its certificate once approved.'),
    status,
    list,
  );

  const changed = changeTracker();
  const draw = async () => {
    const { requests } = await ctx.api.get<OnboardingRequestsListed>('/admin/onboarding-requests', ctx.signal);
    if (!changed(requests)) return;
    const decide = (r: OnboardingRequest, decision: 'approve' | 'deny') => {
      const label = decision === 'approve' ? 'Approve' : 'Deny';
      const button = h('button', { type: 'button', class: decision === 'deny' ? 'danger' : 'primary', 'aria-label': `${label} ${r.deviceId}` }, label);
      button.addEventListener('click', () =>
        act(
          button,
          status,
          async () => {
            await ctx.api.post(`/admin/onboarding-requests/${seg(r.id)}/${decision}`);
            return decision === 'approve' ? `Approved ${r.deviceId}.` : `Denied ${r.deviceId}.`;
          },
          // The decided row goes away with its buttons: focus moves to the next request's, or the page.
          async () => {
            await draw();
            (list.querySelector('button') ?? ctx.main).focus();
          },
        ),
      );
      return button;
    };
    replace(
      list,
      table(
        'Waiting for approval',
        ['Device', 'Method', 'Key (SHA-256)', 'Asked', 'Decision'],
        requests.map((r) => [
          r.deviceId,
          r.method,
          h('code', {}, `${r.publicKeySha256.slice(0, 16)}…`),
          time(r.createdAt),
          h('span', { class: 'actions' }, decide(r, 'approve'), decide(r, 'deny')),
        ]),
        'no device is waiting.',
      ),
    );
  };
  // New requests appear without a reload; a decision redraws at once.
  await poll(
    ctx.signal,
    () => 5000,
    async () => {
      try {
        await draw();
      } catch (err) {
        replace(list, errorNote(err));
      }
    },
  );
};
