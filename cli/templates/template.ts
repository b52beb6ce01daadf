/** What `berth new` needs of a template: its files for an app, and whether its toolchain is here. */
export interface ProjectTemplate {
  name: string;
  summary: string;
  /** Undefined when the template can be built on this machine, else what is missing. */
  available(): Promise<string | undefined>;
  files(names: { app: string; vendor: string; namespace: string }): Record<string, string>;
}
