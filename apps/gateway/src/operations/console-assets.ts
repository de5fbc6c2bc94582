import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';

/**
 * The operator console: static files (apps/gateway/console) served at /console. The page holds
 * no data of its own; it calls the operations API with the operator's key. A strict content
 * security policy: its own scripts and styles only, no framing, nothing sent elsewhere.
 */
export function serveConsole(app: NestExpressApplication): void {
  const root = consoleDirectory();
  app.use(
    '/console',
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
  app.useStaticAssets(root, { prefix: '/console', index: 'index.html', redirect: true });
}

/** apps/gateway/console, found from here both when run from dist/ and from the sources. */
function consoleDirectory(): string {
  let directory = __dirname;
  for (let depth = 0; depth < 8; depth += 1) {
    const candidate = join(directory, 'apps', 'gateway', 'console');
    if (existsSync(join(candidate, 'index.html')) || existsSync(join(directory, 'package.json'))) {
      return candidate;
    }
    directory = dirname(directory);
  }
  return join(process.cwd(), 'apps', 'gateway', 'console');
}
