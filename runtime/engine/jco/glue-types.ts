/** What the generated glue exports (jco `instantiation: 'sync'` mode). */
export interface ComponentGlue {
  instantiate(
    getCoreModule: (name: string) => WebAssembly.Module,
    imports: Record<string, unknown>,
    instantiateCore?: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
  ): Record<string, unknown>;
}
