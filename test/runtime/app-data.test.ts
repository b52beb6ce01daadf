import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pruneAppData, UNPLANNED_MARKER, type PruneAppDataOptions } from '../../runtime/app-data.js';
import { Runtime } from '../../runtime/runtime.js';
import { fixturePath } from '../fixtures/build.js';
import { suiteTempDir } from '../support/tmp.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1);
const GRACE = 7 * DAY;

/** An app folder as the runtime leaves it: key-value entries and files the app wrote. */
function appFolder(root: string, vendor: string, app: string): string {
  const dir = join(root, 'apps', vendor, app);
  mkdirSync(join(dir, 'keyvalue'), { recursive: true });
  mkdirSync(join(dir, 'files', 'logs'), { recursive: true });
  writeFileSync(join(dir, 'keyvalue', 'k1'), 'x'.repeat(100));
  writeFileSync(join(dir, 'files', 'logs', 'a.log'), 'y'.repeat(50));
  return dir;
}

const options = (o: Partial<PruneAppDataOptions> = {}): PruneAppDataOptions => ({ planned: new Set(), supervised: new Set(), graceMs: GRACE, now: T0, ...o });

describe("removed apps' data: kept for a grace period, then deleted", () => {
  it("marks an unplanned app at its folder's root, outside what the app sees, and keeps its data", async () => {
    const root = suiteTempDir('app-data');
    const dir = appFolder(root, 'acme', 'gone');
    const r = await pruneAppData(root, options());
    expect(r.marked).toEqual([{ vendor: 'acme', app: 'gone' }]);
    expect(r.removed).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, UNPLANNED_MARKER), 'utf8'))).toEqual({ unplannedSince: new Date(T0).toISOString() });
    expect(readFileSync(join(dir, 'keyvalue', 'k1'), 'utf8')).toHaveLength(100);
  });

  it('deletes it once the grace period has passed since it was first seen unplanned, not before', async () => {
    const root = suiteTempDir('app-data');
    const dir = appFolder(root, 'acme', 'gone');
    appFolder(root, 'acme', 'stays');
    const planned = new Set(['acme/stays']);
    await pruneAppData(root, options({ planned }));
    // A later clean-up inside the grace keeps the first mark (the countdown does not restart).
    const inside = await pruneAppData(root, options({ planned, now: T0 + GRACE - 1 }));
    expect(inside).toMatchObject({ marked: [], removed: [], waiting: [{ vendor: 'acme', app: 'gone', unplannedSince: new Date(T0).toISOString() }] });
    expect(existsSync(dir)).toBe(true);
    const past = await pruneAppData(root, options({ planned, now: T0 + GRACE }));
    expect(past.removed).toEqual([{ vendor: 'acme', app: 'gone', bytes: 150, unplannedSince: new Date(T0).toISOString() }]);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(root, 'apps', 'acme', 'stays', 'keyvalue', 'k1'))).toBe(true);
    expect(past.vendorsRemoved).toEqual([]);
  });

  it('never touches a planned app or one the runtime supervises, however long ago it was marked', async () => {
    const root = suiteTempDir('app-data');
    const planned = appFolder(root, 'acme', 'planned');
    const running = appFolder(root, 'globex', 'running');
    const r = await pruneAppData(
      root,
      options({ planned: new Set(['acme/planned']), supervised: new Set(['globex/running']), graceMs: 0, now: T0 + 1000 * DAY }),
    );
    expect(r).toMatchObject({ marked: [], removed: [], waiting: [] });
    for (const dir of [planned, running]) {
      expect(existsSync(join(dir, 'keyvalue', 'k1'))).toBe(true);
      expect(existsSync(join(dir, UNPLANNED_MARKER))).toBe(false);
    }
  });

  it('a re-planned app within the grace period: its mark is removed and its data kept as it was', async () => {
    const root = suiteTempDir('app-data');
    const dir = appFolder(root, 'acme', 'back');
    await pruneAppData(root, options());
    expect(existsSync(join(dir, UNPLANNED_MARKER))).toBe(true);
    const r = await pruneAppData(root, options({ planned: new Set(['acme/back']), now: T0 + DAY }));
    expect(r.replanned).toEqual([{ vendor: 'acme', app: 'back' }]);
    expect(existsSync(join(dir, UNPLANNED_MARKER))).toBe(false);
    expect(readFileSync(join(dir, 'files', 'logs', 'a.log'), 'utf8')).toBe('y'.repeat(50));
    // Removed again later: the countdown starts from then, not from the first removal.
    const again = await pruneAppData(root, options({ now: T0 + 2 * DAY }));
    expect(again.marked).toEqual([{ vendor: 'acme', app: 'back' }]);
    expect((await pruneAppData(root, options({ now: T0 + GRACE + DAY }))).removed).toEqual([]);
    expect(existsSync(dir)).toBe(true);
  });

  it('leaves links, files and badly named entries alone and reports them, at both levels', async () => {
    const root = suiteTempDir('app-data');
    const outside = join(root, 'precious');
    mkdirSync(join(outside, 'inner'), { recursive: true });
    writeFileSync(join(outside, 'inner', 'keep'), 'k');
    mkdirSync(join(root, 'apps', 'acme'), { recursive: true });
    symlinkSync(outside, join(root, 'apps', 'linked-vendor'));
    symlinkSync(outside, join(root, 'apps', 'acme', 'linked-app'));
    writeFileSync(join(root, 'apps', 'acme', 'a-file'), 'f');
    mkdirSync(join(root, 'apps', 'acme', 'Bad Name'));
    mkdirSync(join(root, 'apps', '.hidden'));
    const r = await pruneAppData(root, options({ graceMs: 0 }));
    expect(r.leftAlone).toEqual([
      { entry: '.hidden', reason: 'bad-name' },
      { entry: 'linked-vendor', reason: 'symlink' },
      { entry: 'acme/Bad Name', reason: 'bad-name' },
      { entry: 'acme/a-file', reason: 'not-a-directory' },
      { entry: 'acme/linked-app', reason: 'symlink' },
    ]);
    expect(r).toMatchObject({ marked: [], removed: [], failed: [] });
    expect(readFileSync(join(outside, 'inner', 'keep'), 'utf8')).toBe('k');
    expect(existsSync(join(outside, UNPLANNED_MARKER))).toBe(false);
    for (const e of ['linked-vendor', 'acme/linked-app', 'acme/a-file', 'acme/Bad Name', '.hidden']) expect(existsSync(join(root, 'apps', e))).toBe(true);
  });

  it('grace 0 deletes at the first clean-up, and an emptied vendor folder goes with it', async () => {
    const root = suiteTempDir('app-data');
    appFolder(root, 'acme', 'one');
    appFolder(root, 'acme', 'two');
    appFolder(root, 'globex', 'kept');
    const r = await pruneAppData(root, options({ planned: new Set(['globex/kept']), graceMs: 0 }));
    expect(r.removed.map((a) => `${a.vendor}/${a.app}`)).toEqual(['acme/one', 'acme/two']);
    expect(r.vendorsRemoved).toEqual(['acme']);
    expect(existsSync(join(root, 'apps', 'acme'))).toBe(false);
    expect(existsSync(join(root, 'apps', 'globex', 'kept', 'keyvalue', 'k1'))).toBe(true);
  });

  it("a link inside a removed app's folder is unlinked, never followed", async () => {
    const root = suiteTempDir('app-data');
    const outside = join(root, 'precious');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep'), 'k');
    const dir = appFolder(root, 'acme', 'gone');
    symlinkSync(outside, join(dir, 'files', 'escape'));
    const r = await pruneAppData(root, options({ graceMs: 0 }));
    expect(r.removed).toMatchObject([{ vendor: 'acme', app: 'gone', bytes: 150 }]);
    expect(existsSync(dir)).toBe(false);
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('k');
  });

  it('a mark from the future (the clock was set back) or an unreadable one restarts the countdown; an unset clock marks nothing', async () => {
    const root = suiteTempDir('app-data');
    const dir = appFolder(root, 'acme', 'gone');
    writeFileSync(join(dir, UNPLANNED_MARKER), JSON.stringify({ unplannedSince: new Date(T0 + 30 * DAY).toISOString() }));
    expect((await pruneAppData(root, options())).marked).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dir, UNPLANNED_MARKER), 'utf8')).unplannedSince).toBe(new Date(T0).toISOString());
    writeFileSync(join(dir, UNPLANNED_MARKER), 'not json');
    expect((await pruneAppData(root, options({ now: T0 + GRACE }))).removed).toEqual([]);
    const other = appFolder(root, 'acme', 'other');
    const unset = await pruneAppData(root, options({ graceMs: 0, now: Date.UTC(1970, 0, 2) }));
    expect(unset).toMatchObject({ clockUnset: true, marked: [], removed: [] });
    expect(existsSync(join(other, UNPLANNED_MARKER))).toBe(false);
  });

  it("an error on one app's folder is reported and the others are still cleaned", async () => {
    const root = suiteTempDir('app-data');
    const stuck = appFolder(root, 'acme', 'stuck');
    // A directory where the marker belongs: writing the mark over it fails.
    mkdirSync(join(stuck, UNPLANNED_MARKER, 'x'), { recursive: true });
    appFolder(root, 'acme', 'gone');
    const r = await pruneAppData(root, options({ graceMs: 0 }));
    expect(r.failed).toEqual([{ entry: 'acme/stuck', error: expect.any(String) }]);
    expect(r.removed.map((a) => a.app)).toEqual(['gone']);
    expect(existsSync(join(stuck, 'keyvalue', 'k1'))).toBe(true);
  });

  it('no apps folder yet: nothing to do', async () => {
    expect(await pruneAppData(suiteTempDir('app-data'), options())).toMatchObject({ marked: [], removed: [], failed: [], leftAlone: [] });
  });
});

describe('Runtime.pruneAppData', () => {
  const root = suiteTempDir('app-data-runtime');
  const runtime = new Runtime({ dataDir: root });
  afterAll(() => runtime.close());

  it('keeps the folder of an app it supervises even when no plan names it, and deletes it once stopped', async () => {
    const app = await runtime.startApp(readFileSync(fixturePath('hello')), { vendor: 'acme', app: 'live', grants: { log: {}, keyvalue: {} } });
    const dir = runtime.appDataDir('acme', 'live');
    expect(existsSync(dir)).toBe(true);
    expect(await runtime.pruneAppData(new Set(), 0)).toMatchObject({ marked: [], removed: [] });
    expect(existsSync(dir)).toBe(true);
    await app.stop();
    const r = await runtime.pruneAppData(new Set(), 0);
    expect(r.removed).toMatchObject([{ vendor: 'acme', app: 'live' }]);
    expect(existsSync(dir)).toBe(false);
  });
});
