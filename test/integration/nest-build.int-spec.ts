import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * nest-cli.json describes the monorepo to the Nest CLI (`nest build gateway`, `nest start gateway
 * --watch`); `npm run build` stays one swc call (README, "Design choices"). Here the Nest build of
 * both apps, into a folder of its own, must give the same JavaScript at the same paths as
 * `npm run build` (dist/, made before jest runs), and the programs it built must start. No
 * database or broker needed.
 */
const root = join(__dirname, '..', '..');
const nest = join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
// Inside the checkout, so the built files find node_modules as dist/ does.
const work = join(root, 'test-output', `nest-build-${process.pid}`);
const out = join(work, 'dist');

function filesUnder(directory: string, prefix = ''): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? filesUnder(join(directory, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

describe('nest build gateway cli (nest-cli.json)', () => {
  beforeAll(() => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    // Same compiler options as the repository's; only the output folder differs.
    const tsconfig = join(work, 'tsconfig.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: relative(work, join(root, 'tsconfig.json')),
        compilerOptions: { outDir: out },
      }),
    );
    execFileSync(
      process.execPath,
      [nest, 'build', 'gateway', 'cli', '--path', relative(root, tsconfig)],
      {
        cwd: root,
        stdio: 'pipe',
      },
    );
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('emits the JavaScript of npm run build for both apps and the libs, byte for byte', () => {
    const built = filesUnder(out)
      .filter((file) => file.endsWith('.js'))
      .sort();
    const expected = filesUnder(join(root, 'dist'))
      .filter((file) => file.endsWith('.js'))
      .filter((file) => /^(apps|libs\/[^/]+\/src)\//.test(file))
      .sort();
    expect(built).toContain('apps/gateway/src/main.js');
    expect(built).toContain('apps/cli/src/main.js');
    expect(built).toEqual(expected);
    const different = built.filter(
      (file) => !readFileSync(join(out, file)).equals(readFileSync(join(root, 'dist', file))),
    );
    expect(different).toEqual([]);
  });

  it('rewrites the @comity/* aliases to relative paths that exist in the output', () => {
    const libRequires: string[] = [];
    for (const file of filesUnder(out).filter((name) => name.endsWith('.js'))) {
      const code = readFileSync(join(out, file), 'utf8');
      expect(code).not.toContain('require("@comity/');
      for (const [, target] of code.matchAll(/require\("(\.[^"]*\/libs\/[^"]*)"\)/g)) {
        const path = join(out, dirname(file), target!);
        if (!existsSync(`${path}.js`) && !existsSync(join(path, 'index.js')))
          libRequires.push(`${file}: ${target} is missing`);
        else libRequires.push('ok');
      }
    }
    expect(libRequires.length).toBeGreaterThan(0);
    expect(libRequires.filter((line) => line !== 'ok')).toEqual([]);
  });

  it('the built gateway loads, then stops on its configuration: no COMITY_ variable is set', () => {
    const run = spawnSync(process.execPath, [join(out, 'apps', 'gateway', 'src', 'main.js')], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.error).toBeUndefined();
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toContain('COMITY_STATE is required');
  });

  it('the built CLI loads and lists its commands', () => {
    const run = spawnSync(
      process.execPath,
      [join(out, 'apps', 'cli', 'src', 'main.js'), '--help'],
      {
        cwd: work,
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('receipt');
  });
});
