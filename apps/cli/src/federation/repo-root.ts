import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The checkout's root, found from this file whether it runs from source (tests) or from dist. */
export function repoRoot(from: string = __dirname): string {
  let current = from;
  for (;;) {
    const manifest = join(current, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'comity'
    ) {
      return current;
    }
    const parent = dirname(current);
    if (parent === current) throw new Error(`cannot find the Comity checkout above ${from}`);
    current = parent;
  }
}

export function gatewayEntryPoint(): string {
  const entry = join(repoRoot(), 'dist', 'apps', 'gateway', 'src', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
  return entry;
}
