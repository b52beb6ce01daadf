import { cToolchainMissing } from '../build/c-component.js';
import type { ProjectTemplate } from './template.js';

/**
 * A C app: a WASI command (clang, wasi-libc, jco's preview1 adapter) whose `main` is the app's
 * entry point. It counts its starts in its private data folder and says so on stdout, which is
 * the app's log on a device. What the adapter imports decides its grants: files (its /data) and
 * clocks (the adapter reads the wall clock for file times).
 */
export const cTemplate: ProjectTemplate = {
  name: 'c',
  summary: 'C, a WASI command (needs Debian clang and wasi-libc)',
  available: cToolchainMissing,
  files: ({ app, vendor }) => ({
    'berth.yaml': `# What \`berth build\` builds, and the grants the app needs where it runs (docs/vendor-guide.md).
app: ${app}
vendor: ${vendor}
version: 0.1.0
source: src/main.c
grants:
  # Its own data folder, seen as /data, with a quota.
  files:
    quotaBytes: 1048576
  # The WASI adapter reads the wall clock (file times).
  clocks: {}
`,
    'src/main.c': `/* ${vendor}/${app}: counts its starts in /data/starts and says so on stdout (the app's log). */
#include <stdio.h>

int main(void) {
    int starts = 0;
    FILE *f = fopen("/data/starts", "r");
    if (f) {
        if (fscanf(f, "%d", &starts) != 1) starts = 0;
        fclose(f);
    }
    starts += 1;
    f = fopen("/data/starts", "w");
    if (!f) {
        perror("cannot write /data/starts");
        return 1;
    }
    fprintf(f, "%d\\n", starts);
    fclose(f);
    printf("hello from ${app}, start %d\\n", starts);
    return 0;
}
`,
    '.gitignore': 'dist/\n.berth/\n*.key\n',
    'README.md': `# ${app}

A Berth app (${vendor}/${app}), made by \`berth new c ${app}\`.

    berth build     # dist/${app}.wasm (clang, wasi-libc)
    berth run       # runs it once with berth.yaml's grants; its data stays in .berth/

Signing, pushing and deploying: docs/vendor-guide.md in Berth.
`,
  }),
};
