import type { ProjectTemplate } from './template.js';

/**
 * A JavaScript HTTP app: served under its route on the device's gateway, it answers with a
 * greeting from its configuration and logs each request. Its world imports exactly what the
 * source uses (componentize-js keeps every import of the world, used or not, and each needs a
 * grant where the app is deployed).
 */
export const jsTemplate: ProjectTemplate = {
  name: 'js',
  summary: 'JavaScript, an HTTP app (componentize-js; nothing to install beyond Berth)',
  available: async () => undefined,
  files: ({ app, vendor, namespace }) => ({
    'berth.yaml': `# What \`berth build\` builds, and the grants the app needs where it runs (docs/vendor-guide.md).
app: ${app}
vendor: ${vendor}
version: 0.1.0
source: src/app.js
world: app
grants:
  log: {}
  config:
    values:
      greeting: Hello
  inbound-http:
    route: /${app}
  # wasi:http/types imports the monotonic clock (request timeouts): an HTTP app needs this grant.
  clocks: {}
`,
    'wit/world.wit': `/// The world ${app} is built for: what it imports, each covered by a grant in berth.yaml.
/// Interfaces: berth wit <dir> writes berth:host (log, config, keyvalue, identity, messaging) and WASI.
package ${namespace}:${app}@0.1.0;

world app {
  import berth:host/log@0.1.0;
  import berth:host/config@0.1.0;
  import wasi:http/types@0.2.12;
  export wasi:http/incoming-handler@0.2.12;
}
`,
    'src/app.js': `// ${vendor}/${app}: answers every request under its route with a greeting from its configuration.
import { log } from 'berth:host/log@0.1.0';
import { get as configGet } from 'berth:host/config@0.1.0';
import { Fields, OutgoingBody, OutgoingResponse, ResponseOutparam } from 'wasi:http/types@0.2.12';

const encoder = new TextEncoder();
let served = 0;

function respondJson(responseOut, status, value) {
  const response = new OutgoingResponse(Fields.fromList([['content-type', encoder.encode('application/json')]]));
  response.setStatusCode(status);
  const body = response.body();
  ResponseOutparam.set(responseOut, { tag: 'ok', val: response });
  const stream = body.write();
  stream.blockingWriteAndFlush(encoder.encode(JSON.stringify(value) + '\\n'));
  stream[Symbol.dispose]?.();
  OutgoingBody.finish(body, undefined);
}

export const incomingHandler = {
  handle(request, responseOut) {
    served += 1;
    const path = request.pathWithQuery() ?? '/';
    log('info', 'request', [['path', path]]);
    respondJson(responseOut, 200, { app: '${vendor}/${app}', message: \`\${configGet('greeting') ?? 'Hello'} from ${app}\`, path, served });
  },
};
`,
    '.gitignore': 'dist/\n.berth/\n*.key\n',
    'README.md': `# ${app}

A Berth app (${vendor}/${app}), made by \`berth new js ${app}\`.

    berth build                      # dist/${app}.wasm
    berth run dist/${app}.wasm --serve 127.0.0.1:8080   # then: curl http://127.0.0.1:8080/${app}

Signing, pushing and deploying: docs/vendor-guide.md in Berth.
`,
  }),
};
