import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The shape the code must keep, checked on every test run: no import cycle (type-only imports
 * included, which eslint's cycle rule ignores), short source files, and the database and the
 * broker reached only from their own folders.
 */
const ROOT = resolve(__dirname, '..', '..');
const GATEWAY = 'apps/gateway/src';
const MAX_SOURCE_LINES = 500;

function sourceFiles(directory: string): string[] {
  return readdirSync(join(ROOT, directory), { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(entry.name) && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name)
      ? [path]
      : [];
  });
}

const FILES = [...sourceFiles('apps'), ...sourceFiles('libs')].filter(
  (file) => !file.includes('/test-support/'),
);
const TEXT = new Map(FILES.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));

/** Every relative import and re-export of a file, `import type` included, as repository paths. */
function importsOf(file: string): string[] {
  const text = TEXT.get(file)!;
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g),
  ].map((match) => match[1]!);
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => {
      const base = relative(ROOT, resolve(join(ROOT, dirname(file)), specifier));
      return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => TEXT.has(candidate));
    })
    .filter((path): path is string => path !== undefined);
}

function findCycle(): string[] | null {
  const graph = new Map(FILES.map((file) => [file, importsOf(file)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): string[] | null => {
    if (state.get(file) === 'done') return null;
    if (state.get(file) === 'visiting') return [...stack.slice(stack.indexOf(file)), file];
    state.set(file, 'visiting');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(file, 'done');
    return null;
  };
  for (const file of FILES) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return null;
}

describe('the shape of the code', () => {
  it('reads the sources it is meant to check', () => {
    expect(FILES.length).toBeGreaterThan(100);
    expect(FILES).toContain(`${GATEWAY}/app.module.ts`);
  });

  it('has no import cycle, type-only imports included', () => {
    expect(findCycle()).toBeNull();
  });

  it(`has no source file over ${MAX_SOURCE_LINES} lines in apps/ or libs/`, () => {
    const long = FILES.map((file) => ({ file, lines: TEXT.get(file)!.split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_SOURCE_LINES)
      .map(({ file, lines }) => `${file}: ${lines}`);
    expect(long).toEqual([]);
  });

  it(`keeps the console's and the workspace's scripts and stylesheets under ${MAX_SOURCE_LINES} lines each`, () => {
    const console = (directory: string): string[] =>
      readdirSync(join(ROOT, directory), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? console(join(directory, entry.name))
          : /\.(js|css)$/.test(entry.name)
            ? [join(directory, entry.name)]
            : [],
      );
    const files = [...console('apps/gateway/console'), ...console('apps/gateway/workspace')];
    expect(files.length).toBeGreaterThan(10);
    const long = files.filter(
      (file) => readFileSync(join(ROOT, file), 'utf8').split('\n').length - 1 > MAX_SOURCE_LINES,
    );
    expect(long).toEqual([]);
  });

  it('reaches the database only from persistence/ (no DataSource or EntityManager elsewhere)', () => {
    const outside = FILES.filter(
      (file) =>
        file.startsWith(GATEWAY) &&
        !file.startsWith(`${GATEWAY}/persistence/`) &&
        /\b(DataSource|EntityManager|QueryRunner|InjectDataSource)\b|from '(typeorm|pg|@nestjs\/typeorm)[/']/.test(
          TEXT.get(file)!,
        ),
    );
    expect(outside).toEqual([]);
  });

  it('speaks AMQP only in transport/', () => {
    const outside = FILES.filter(
      (file) =>
        !file.startsWith(`${GATEWAY}/transport/`) && /from 'amqplib[/']/.test(TEXT.get(file)!),
    );
    expect(outside).toEqual([]);
  });

  it('keeps the gateway feature modules one-way: no feature imports the application module or main', () => {
    const upward = FILES.filter(
      (file) =>
        file.startsWith(GATEWAY) &&
        importsOf(file).some(
          (target) => target === `${GATEWAY}/app.module.ts` || target === `${GATEWAY}/main.ts`,
        ),
    ).filter((file) => file !== `${GATEWAY}/main.ts`);
    expect(upward).toEqual([]);
  });
});
