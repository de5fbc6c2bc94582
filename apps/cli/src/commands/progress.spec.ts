import { formatBytes, percent, Progress, progressMode, renderBar } from './progress';

describe('progress', () => {
  it('shows a bar on a terminal and lines elsewhere, unless told', () => {
    expect(progressMode('auto', true)).toBe('bar');
    expect(progressMode(undefined, false)).toBe('lines');
    expect(progressMode('none', true)).toBe('none');
    expect(progressMode('bar', false)).toBe('bar');
  });

  it('formats sizes and percentages', () => {
    expect([0, 512, 1536, 64 * 1024 * 1024].map(formatBytes)).toEqual([
      '0 B',
      '512 B',
      '1.5 KiB',
      '64.0 MiB',
    ]);
    expect([percent(0, 10), percent(9.99, 10), percent(10, 10), percent(0, 0)]).toEqual([
      0, 99, 100, 100,
    ]);
    expect(renderBar('a.zip', 512, 1024, 2048, 10)).toBe(
      'a.zip [#####-----]  50%  512 B / 1.0 KiB  2.0 KiB/s',
    );
    expect(renderBar('a.zip', 1024, 1024, null, 4)).toBe('a.zip [####] 100%  1.0 KiB / 1.0 KiB');
  });

  it('prints a line at each tenth in lines mode, starting from what a resumed upload had', () => {
    const lines: string[] = [];
    const progress = new Progress('lines', 'a.zip', 1000, (text) => lines.push(text));
    progress.note('resuming upload u: 3 of 10 chunks already at the gateway');
    progress.begin(300);
    for (let step = 0; step < 7; step++) progress.advance(100);
    progress.finish();
    expect(lines).toEqual([
      'resuming upload u: 3 of 10 chunks already at the gateway\n',
      'a.zip: 30% (300 B of 1000 B)\n',
      'a.zip: 40% (400 B of 1000 B)\n',
      'a.zip: 50% (500 B of 1000 B)\n',
      'a.zip: 60% (600 B of 1000 B)\n',
      'a.zip: 70% (700 B of 1000 B)\n',
      'a.zip: 80% (800 B of 1000 B)\n',
      'a.zip: 90% (900 B of 1000 B)\n',
      'a.zip: 100% (1000 B of 1000 B)\n',
    ]);
  });

  it('redraws one line in bar mode and ends it; prints nothing in none mode', () => {
    let bar = '';
    const progress = new Progress('bar', 'a.zip', 100, (text) => (bar += text));
    progress.begin(0);
    progress.advance(100);
    progress.finish();
    expect(bar.startsWith('\ra.zip [')).toBe(true);
    expect(bar).toContain('100%');
    expect(bar.endsWith('\n')).toBe(true);
    let none = '';
    const quiet = new Progress('none', 'a.zip', 100, (text) => (none += text));
    quiet.note('x');
    quiet.begin(0);
    quiet.advance(100);
    quiet.finish();
    expect(none).toBe('');
  });
});
