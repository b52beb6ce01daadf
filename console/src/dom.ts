/** Small DOM helpers: the console builds its pages from these, with text content only (never innerHTML). */

export type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/** `h('button', { type: 'button', onclick: go }, 'Go')`: attributes set as attributes, `on*` as listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== undefined) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Empties `parent` and fills it with `children`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

/** A table with a caption (its accessible name) and column headers; `empty` says what no rows means. */
export function table(caption: string, headers: readonly string[], rows: readonly (readonly Child[])[], empty = 'Nothing yet.'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, `${caption}: ${empty}`);
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ...headers.map((name) => h('th', { scope: 'col' }, name)))),
      h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((cell) => h('td', {}, cell))))),
    ),
  );
}

/** A labelled form control: the label wraps nothing, it names the control by id. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  const hintId = hint ? `${control.id}-hint` : undefined;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hint ? h('small', { id: hintId }, hint) : null);
}

/** A `<time>` with the exact instant as its tooltip and machine value, and a short local text. */
export function time(at: string | null | undefined): Child {
  if (!at) return '—';
  const date = new Date(at);
  return h('time', { datetime: date.toISOString(), title: date.toISOString() }, date.toLocaleString());
}

/** "in 29 days", "3 min ago": how far `at` is from now. */
export function relative(at: string | null | undefined, now = Date.now()): string {
  if (!at) return 'never';
  const seconds = Math.round((new Date(at).getTime() - now) / 1000);
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ['day', 86_400],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [unit, size] of steps) if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  return format.format(seconds, 'second');
}

/** A state word as a badge; the text carries the meaning, the colour only repeats it. */
export function badge(state: string): HTMLElement {
  return h('span', { class: `badge badge-${state.replace(/[^a-z-]/g, '')}` }, state);
}

/** `text` cut to `max` characters, the whole of it in the tooltip (long key ids, digests). */
export function clipped(text: string, max = 40): Child {
  if (text.length <= max) return text;
  return h('span', { title: text }, `${text.slice(0, max - 1)}…`);
}

/** An audit event's fields as `name value` pairs, values clipped: readable where JSON is a wall. */
export function fieldList(fields: Record<string, unknown>): Child {
  const entries = Object.entries(fields);
  if (entries.length === 0) return '—';
  return h(
    'ul',
    { class: 'plain fields' },
    ...entries.map(([name, value]) =>
      h('li', {}, h('span', { class: 'field-name' }, name), ' ', clipped(typeof value === 'string' ? value : JSON.stringify(value), 48)),
    ),
  );
}
