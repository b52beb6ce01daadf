import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../common/paths.js';

const run = promisify(execFile);

/** Where the probe binary sits inside every container. */
export const PROBE = '/probe';

export interface ContainerResources {
  /** Memory limit in bytes (cgroup memory.limit_in_bytes / memory.max). */
  memoryBytes?: number;
  /** CPU share as quota/period in microseconds. */
  cpu?: { quota: number; period: number };
}

/**
 * A minimal rootfs: one static binary (bench/container/probe.c) and the empty folders a runtime
 * mounts over. Nothing else: no shell, no libc, no /etc. Built once per benchmark run.
 */
export async function buildRootfs(dir: string): Promise<string> {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['proc', 'dev', 'sys', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  const source = join(projectRoot(), 'bench', 'container', 'probe.c');
  try {
    await run('gcc', ['-static', '-O2', '-o', join(rootfs, PROBE.slice(1)), source]);
  } catch (err) {
    throw new Error(`cannot build the container workload with \`gcc -static\` (Debian: gcc, libc6-dev): ${(err as Error).message.split('\n')[0]}`);
  }
  chmodSync(join(rootfs, PROBE.slice(1)), 0o755);
  return rootfs;
}

/**
 * An OCI bundle (config.json) that runs `args` in the shared read-only rootfs: the defaults of
 * `runc spec` (new pid, ipc, uts, mount and network namespaces, no capabilities beyond the
 * default set, masked /proc paths), with the process, the root and the resources set here.
 */
export function writeBundle(dir: string, rootfs: string, args: string[], resources: ContainerResources = {}): string {
  mkdirSync(dir, { recursive: true });
  const config = baseConfig(rootfs, args);
  const linux = config.linux as Record<string, unknown>;
  if (resources.memoryBytes !== undefined || resources.cpu) {
    linux.resources = {
      devices: [{ allow: false, access: 'rwm' }],
      ...(resources.memoryBytes !== undefined ? { memory: { limit: resources.memoryBytes, swap: resources.memoryBytes } } : {}),
      ...(resources.cpu ? { cpu: resources.cpu } : {}),
    };
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

/** The runtime-spec defaults `runc spec` writes (1.1), kept here so both runc and crun get the same. */
function baseConfig(rootfs: string, args: string[]): Record<string, unknown> {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: true },
    hostname: 'bench',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
