// Runs once before the suites: builds the fixture components from their sources in test/.
// Suites that need a fixture call `fixturePath(name)`; the build is cached by source hash.
// BERTH_FIXTURES=prebuilt skips the build and uses what test/.build/fixtures already holds
// (for iterating on one suite while a fixture elsewhere is being written).
export default async function setup(): Promise<void> {
  if (process.env.BERTH_FIXTURES === 'prebuilt') return;
  const { buildAllFixtures } = await import('./fixtures/build.js');
  await buildAllFixtures();
}
