import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';

/**
 * A browser app of static files (apps/gateway/<folder>) served at `prefix`: the operator
 * console, the clerks' workspace. The pages hold no data of their own and call this gateway's
 * API only. A strict content security policy: their own scripts and styles only, no framing,
 * nothing sent elsewhere.
 */
export function serveStaticApp(app: NestExpressApplication, prefix: string, folder: string): void {
  const root = appDirectory(folder);
  app.use(
    prefix,
    (_request: unknown, response: { setHeader(n: string, v: string): void }, next: () => void) => {
      response.setHeader(
        'content-security-policy',
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      response.setHeader('x-content-type-options', 'nosniff');
      response.setHeader('referrer-policy', 'no-referrer');
      response.setHeader('cache-control', 'no-store');
      next();
    },
  );
  app.useStaticAssets(root, { prefix, index: 'index.html', redirect: true });
}

/** apps/gateway/<folder>, found from here both when run from dist/ and from the sources. */
function appDirectory(folder: string): string {
  let directory = __dirname;
  for (let depth = 0; depth < 8; depth += 1) {
    const candidate = join(directory, 'apps', 'gateway', folder);
    if (existsSync(join(candidate, 'index.html')) || existsSync(join(directory, 'package.json'))) {
      return candidate;
    }
    directory = dirname(directory);
  }
  return join(process.cwd(), 'apps', 'gateway', folder);
}
