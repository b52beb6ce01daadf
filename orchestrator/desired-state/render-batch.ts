import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import type { Placement } from './placement.js';
import { deploymentYaml, rendered, renderBundle, renderDeployment, type Rendered, type RenderedDeployment } from './render.js';
import { tarFiles } from './tar.js';

/**
 * Rendering for many devices at once, byte for byte what render.ts gives one device at a time
 * (test/desired-state/render-batch.test.ts compares them). An every-device deployment's document
 * differs between devices only in `metadata.deviceId`, so each distinct placement (all fields but
 * the device) is rendered to YAML once and the device id spliced in; bundles are tarred without a
 * stream per device.
 */

// Stands in for the device id in a template; a placement whose text contains it otherwise is
// rendered whole.
const SENTINEL = 'berth-device-id-sentinel-5f0c2a9e';
const MARKER = `\n  deviceId: ${SENTINEL}\n`;

// The YAML library writes a string plain (unquoted) unless it could read as something else; an
// id that starts with a letter and holds only Margo id characters always reads as a string.
const PLAIN_ID = /^[A-Za-z][A-Za-z0-9._~/-]*$/;
const KEYWORD = /^(true|false|null|yes|no|on|off|y|n)$/i;

function writesPlain(deviceId: string): boolean {
  if (PLAIN_ID.test(deviceId) && !KEYWORD.test(deviceId)) return true;
  return stringify(deviceId, { lineWidth: 0 }) === `${deviceId}\n`;
}

type Template = { head: string; tail: string } | null;

/** A renderer for one batch: templates live as long as it does (one rendering transaction). */
export function batchRenderer(): (p: Placement) => RenderedDeployment {
  const templates = new Map<string, Template>();
  return (p) => {
    if (!writesPlain(p.deviceId)) return renderDeployment(p);
    const key = JSON.stringify({ ...p, deviceId: '' });
    let t = templates.get(key);
    if (t === undefined) {
      const text = deploymentYaml({ ...p, deviceId: SENTINEL });
      const at = text.indexOf(MARKER);
      const once = at >= 0 && text.indexOf(SENTINEL) === at + MARKER.indexOf(SENTINEL) && text.lastIndexOf(SENTINEL) === text.indexOf(SENTINEL);
      t = once ? { head: text.slice(0, at + MARKER.indexOf(SENTINEL)), tail: text.slice(at + MARKER.indexOf(SENTINEL) + SENTINEL.length) } : null;
      templates.set(key, t);
    }
    if (!t) return renderDeployment(p);
    return { deploymentId: p.deploymentId, ...rendered(Buffer.from(t.head + p.deviceId + t.tail, 'utf8')) };
  };
}

/** renderBundle's bytes, synchronously when every entry name allows it. */
export async function renderBundleFast(deployments: readonly RenderedDeployment[]): Promise<Rendered> {
  const tar = tarFiles(deployments.map((d) => ({ name: `${d.deploymentId}.yaml`, bytes: d.bytes })));
  return tar ? rendered(gzipSync(tar, { level: 6 })) : renderBundle(deployments);
}
