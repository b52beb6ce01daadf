import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { BerthError } from '../common/errors.js';

/** A JSON file a command sends as it is; unreadable or not JSON is an error naming the file. */
export function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new BerthError('cli.bad_file', `${path}: ${(err as Error).message}`);
  }
}

/** A YAML or JSON file (JSON is YAML), for what people write by hand such as a deployment. */
export function readYamlOrJsonFile(path: string): unknown {
  try {
    return parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new BerthError('cli.bad_file', `${path}: ${(err as Error).message}`);
  }
}
