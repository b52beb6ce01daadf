// Runs once before the suites: builds the fixture components from their sources in test/.
// Suites that need a fixture call `fixturePath(name)`; the build is cached by source hash.
export default async function setup(): Promise<void> {
  const { buildAllFixtures } = await import('./fixtures/build.js');
  await buildAllFixtures();
}
