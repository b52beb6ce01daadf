import { createHash } from 'node:crypto';

/**
 * The API reference page (GET /api/v1/docs): one self-contained HTML page whose script reads
 * openapi.json from the same control plane and lists the operations by tag. No framework, no
 * CDN, no request anywhere else: the Content-Security-Policy allows only this page's own script
 * and style (by hash) and fetches to its own origin. Everything from the document is put on the
 * page as text (textContent), never as HTML.
 */
const SCRIPT = `(async () => {
  const main = document.querySelector('main');
  const el = (tag, props, ...children) => {
    const e = Object.assign(document.createElement(tag), props);
    e.append(...children.filter((c) => c !== undefined));
    return e;
  };
  let doc;
  try {
    const res = await fetch('openapi.json', { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    doc = await res.json();
  } catch (err) {
    main.textContent = 'Could not load openapi.json: ' + err.message;
    return;
  }
  const schemaBlock = (label, schema) => el('details', { className: 'schema' }, el('summary', {}, label), el('pre', {}, JSON.stringify(schema, null, 2)));
  const list = (rows) => el('dl', {}, ...rows.flatMap(([term, text, extra]) => [el('dt', {}, term), el('dd', {}, text, extra)]));
  const operation = (path, method, op) =>
    el(
      'details',
      { id: op.operationId, className: 'op' },
      el('summary', {}, el('span', { className: 'method ' + method }, method.toUpperCase()), ' ', el('code', {}, path), ' ', el('span', {}, op.summary)),
      ...(op.description || '').split('\\n\\n').map((p) => el('p', {}, p)),
      ...(op.parameters ? [el('h4', {}, 'Parameters'), list(op.parameters.map((p) => [p.name + ' (' + p.in + (p.required ? ', required' : '') + ')', p.description || '', schemaBlock('schema', p.schema)]))] : []),
      ...(op.requestBody ? [el('h4', {}, 'Request body'), ...Object.entries(op.requestBody.content).map(([type, c]) => schemaBlock(type, c.schema))] : []),
      el('h4', {}, 'Responses'),
      list(Object.entries(op.responses).map(([status, r]) => [status, r.description, ...Object.entries(r.content || {}).map(([type, c]) => schemaBlock(type, c.schema))])),
    );
  const byTag = new Map(doc.tags.map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) byTag.get(op.tags[0]).push(operation(path, method, op));
  document.title = doc.info.title + ' API ' + doc.info.version;
  main.replaceChildren(
    el('h1', {}, doc.info.title + ' API'),
    el('p', {}, doc.info.description),
    el('p', {}, 'Version ' + doc.info.version + ' · OpenAPI ' + doc.openapi + ' · ', el('a', { href: 'openapi.json' }, 'openapi.json')),
    el('nav', { ariaLabel: 'Tags' }, el('ul', {}, ...doc.tags.map((t, i) => el('li', {}, el('a', { href: '#tag-' + i }, t.name))))),
    ...doc.tags.map((t, i) => el('section', { id: 'tag-' + i }, el('h2', {}, t.name), ...byTag.get(t.name))),
    el('section', {}, el('h2', {}, 'Schemas'), ...Object.entries(doc.components.schemas).map(([name, s]) => schemaBlock(name, s))),
  );
})();`;

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:62rem;padding:1rem;color:#1b1b1b;background:#fff}
code,pre{font:13px ui-monospace,monospace}pre{background:#f4f4f4;padding:.5rem;overflow:auto}
.op{border:1px solid #ccc;border-radius:4px;margin:.4rem 0;padding:.3rem .6rem}.op>summary{cursor:pointer}
.method{display:inline-block;min-width:4.2rem;font-weight:700}.get{color:#0b5394}.post{color:#38761d}.put{color:#7f6000}.delete{color:#990000}
dt{font-weight:600}dd{margin:0 0 .4rem 1rem}.schema>summary{cursor:pointer;color:#444}
@media (prefers-color-scheme:dark){body{background:#161616;color:#e8e8e8}pre{background:#262626}.schema>summary{color:#bbb}}`;

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export const REFERENCE_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Berth API reference</title>
<style>${STYLE}</style>
</head>
<body>
<main aria-live="polite">Loading the API description…</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

/** Only this page's own script and style, and fetches to its own origin. */
export const REFERENCE_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
