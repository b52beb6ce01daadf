/**
 * The one Wasmtime build Berth loads. It is native code inside the device's process, so it is
 * pinned by version and by hash: the wheel pip returns and the library taken out of it are both
 * checked against these before anything else reads them (docs/engine-wasmtime-library.md).
 */
export const WASMTIME_VERSION = '49.0.0';

export interface WasmtimeLibraryPin {
  version: string;
  /** Node's `process.platform` and `process.arch` this build runs on. */
  platform: NodeJS.Platform;
  arch: string;
  /** The Bytecode Alliance's Python wheel that carries the C API library (PyPI `wasmtime`). */
  wheel: string;
  wheelSha256: string;
  /** Where the library sits inside the wheel, and so inside an installed Python package. */
  libraryInWheel: string;
  librarySha256: string;
}

/** Only linux x86_64 is measured and pinned; every other platform has no library. */
export const WASMTIME_PINS: readonly WasmtimeLibraryPin[] = [
  {
    version: WASMTIME_VERSION,
    platform: 'linux',
    arch: 'x64',
    wheel: `wasmtime-${WASMTIME_VERSION}-py3-none-manylinux1_x86_64.whl`,
    wheelSha256: '94f0288f9e1c33924995a72bb769f4c4e2885002391589dd6992cdaa35d1990a',
    libraryInWheel: 'wasmtime/linux-x86_64/_libwasmtime.so',
    librarySha256: '9594714d3c73c3087ab3d42d9614cf72973b25c181b8625ffcc46a8a75972d7e',
  },
];

/** The file name the library has in Berth's cache and in the wheel. */
export const LIBRARY_FILE = '_libwasmtime.so';

export function pinFor(platform: NodeJS.Platform, arch: string): WasmtimeLibraryPin | undefined {
  return WASMTIME_PINS.find((pin) => pin.platform === platform && pin.arch === arch);
}

/** How people name the pinned platforms in messages ("linux x86_64"). */
export function pinnedPlatforms(): string {
  return WASMTIME_PINS.map((pin) => `${pin.platform} ${pin.arch === 'x64' ? 'x86_64' : pin.arch}`).join(', ');
}
