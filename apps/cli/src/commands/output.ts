import { InvalidArgumentError } from 'commander';

/**
 * A command's answer on stdout: one JSON document with --json (for scripts), text for people
 * otherwise. `human` is only called for text.
 */
export function emit(
  json: boolean | undefined,
  value: unknown,
  human: () => string | readonly string[],
): void {
  if (json) {
    console.log(JSON.stringify(value, null, 2));
    return;
  }
  const text = human();
  for (const line of typeof text === 'string' ? [text] : text) console.log(line);
}

/** A commander option parser for an integer from `min` to `max`. */
export const integerFrom =
  (min: number, max: number) =>
  (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(parsed) || parsed < min || parsed > max)
      throw new InvalidArgumentError(`an integer from ${min} to ${max}`);
    return parsed;
  };

/** A commander collector for an option given several times (`--x a --x b`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
