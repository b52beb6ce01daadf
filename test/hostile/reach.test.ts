import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BerthError } from '../../common/errors.js';
import { waitFor } from '../support/app-logs.js';
import { bytes, hostileBench, nextStop, TIERS } from './support.js';

/** Hostile apps that try to reach what is not theirs: files, environment, data, tokens, topics, imports. */
for (const tier of TIERS)
  describe(`hostile reach, ${tier} tier`, () => {
    const bench = hostileBench(`reach-${tier}`);

    it('reads nothing outside its data folder: /etc/passwd, .., absolute paths, symlinks out; and no host environment', async () => {
      process.env.BERTH_HOSTILE_SECRET = 'must-not-leak';
      const files = join(bench.runtime.appDataDir('mallory', 'files'), 'files');
      mkdirSync(files, { recursive: true });
      symlinkSync('/etc/passwd', join(files, 'link-abs'));
      symlinkSync('../../../../etc/passwd', join(files, 'link-rel'));
      const output: string[] = [];
      await bench.whileNeighbourAnswers(async () => {
        await bench.runtime.startApp(bytes('files'), { vendor: 'mallory', app: 'files', grants: { files: {}, clocks: {} }, tier });
        await waitFor(() => bench.lines.some((l) => l.app === 'files' && l.msg.startsWith('env ')), 20_000, 'the probe to finish');
      });
      output.push(...bench.lines.filter((l) => l.app === 'files').map((l) => l.msg));
      for (const probe of ['etc-passwd', 'dotdot', 'relative-dotdot', 'symlink-abs', 'symlink-rel']) {
        expect(output.find((l) => l.startsWith(`${probe} `))).toMatch(new RegExp(`^${probe} denied`));
      }
      expect(output).toContain('write-own allowed');
      expect(output).toContain('env denied none');
      delete process.env.BERTH_HOSTILE_SECRET;
    });

    it("cannot read another app's key-value namespace, even under the same key", async () => {
      const grants = { log: {}, config: { values: {} }, keyvalue: {} };
      const victim = await bench.runtime.startApp(bytes('js-app'), { vendor: 'victim', app: 'store', grants, tier });
      const thief = await bench.runtime.startApp(bytes('js-app'), { vendor: 'mallory', app: 'thief', grants, tier });
      await bench.whileNeighbourAnswers(async () => {
        for (let i = 0; i < 5; i++) await victim.invoke('bump');
        // Each counter starts at its own run() (1); the thief's sees none of the victim's bumps.
        expect(await thief.invoke('bump')).toEqual({ ok: true, value: 2 });
      });
      await victim.stop();
      await thief.stop();
    }, 60_000);

    it('cannot start at all when it imports an interface it was not granted', async () => {
      const err = await bench.runtime.startApp(bytes('ungranted'), { vendor: 'mallory', app: 'sneaky', grants: { log: {} }, tier }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BerthError);
      expect((err as BerthError).message).toMatch(/mallory\/sneaky refused: berth:host\/identity@0\.1\.0 needs the "identity" grant/);
    });

    it('gets no token for an audience it was not granted', async () => {
      await bench.whileNeighbourAnswers(async () => {
        const app = await bench.runtime.startApp(bytes('ungranted'), {
          vendor: 'mallory',
          app: 'token-thief',
          grants: { log: {}, identity: { audiences: ['historian'] } },
          tier,
        });
        expect(await nextStop(app)).toMatchObject({ reason: 'failed', message: 'run returned an error: get-token refused' });
        await app.stop();
      });
    });

    it('cannot subscribe to, or publish on, a topic it was not granted', async () => {
      const app = await bench.runtime.startApp(bytes('messenger'), {
        vendor: 'mallory',
        app: 'eavesdropper',
        grants: { messaging: { subscribe: ['public'] } },
        tier,
      });
      await bench.whileNeighbourAnswers(async () => {
        expect(await app.invoke('subscribe', ['line1/secret'])).toMatchObject({
          ok: false,
          failure: { kind: 'app-error', message: 'topic-not-granted(line1/secret)' },
        });
        expect(await app.invoke('publish', ['line1/secret', 'spoof'])).toMatchObject({
          ok: false,
          failure: { kind: 'app-error', message: 'topic-not-granted(line1/secret)' },
        });
        expect(await app.invoke('subscribe', ['public'])).toEqual({ ok: true, value: undefined });
      });
      await app.stop();
    });
  });
