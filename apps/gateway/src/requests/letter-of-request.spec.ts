import { inflateSync } from 'node:zlib';
import { PDFDocument } from 'pdf-lib';
import { completeMlaRequest } from '../../../../libs/protocol/test-support/structured-requests';
import { renderLetterOfRequest, winAnsi, type LetterOfRequest } from './letter-of-request';

const letter = (overrides: Partial<LetterOfRequest> = {}): LetterOfRequest => ({
  kind: 'mla_request',
  from: {
    state: 'AT',
    stateName: 'Austria',
    authority: 'moj',
    authorityName: 'Ministry of Justice',
  },
  to: { state: 'FR', stateName: 'France', authority: 'bepi', authorityName: 'BEPI' },
  subject: 'Bank records of Muster GmbH',
  legalBasis: 'UNCAC art. 46',
  urgency: 'urgent',
  deadline: '2027-01-31',
  request: completeMlaRequest(),
  reference: null,
  date: new Date('2026-12-01T10:00:00Z'),
  ...overrides,
});

/** The text drawn on the pages: content streams inflated, hex strings decoded. */
async function drawnText(pdf: Buffer): Promise<string> {
  const source = pdf.toString('latin1');
  const texts: string[] = [];
  for (const match of source.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    let body: string;
    try {
      body = inflateSync(Buffer.from(match[1] ?? '', 'latin1')).toString('latin1');
    } catch {
      continue;
    }
    for (const hex of body.matchAll(/<([0-9A-Fa-f]*)> Tj/g)) {
      texts.push(Buffer.from(hex[1] ?? '', 'hex').toString('latin1'));
    }
  }
  return texts.join('\n');
}

describe('renderLetterOfRequest', () => {
  it('prints the parties, the subject and every section of the request', async () => {
    const pdf = await renderLetterOfRequest(letter());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = await drawnText(pdf);
    expect(text).toContain('Request for mutual legal assistance');
    expect(text).toContain('Bank records of Muster GmbH');
    expect(text).toContain('To: BEPI, France');
    expect(text).toContain('Summary of the facts');
    expect(text).toContain('Purpose');
    expect(text).toContain('§ 307 StGB');
    expect(text).toContain('to be executed by 2027-01-31');
    expect(text).toContain('DRAFT');
  });

  it('prints the same bytes for the same letter', async () => {
    const [a, b] = await Promise.all([
      renderLetterOfRequest(letter()),
      renderLetterOfRequest(letter()),
    ]);
    expect(a.equals(b)).toBe(true);
  });

  it('marks a draft and not a sent letter', async () => {
    const sent = await drawnText(await renderLetterOfRequest(letter({ reference: 'msg-1' })));
    expect(sent).not.toContain('DRAFT');
    expect(sent).toContain('Reference: msg-1');
  });

  it('starts new pages for long facts and wraps words wider than a line', async () => {
    const facts = Array.from({ length: 300 }, (_, i) => `Fact number ${i} of a long account.`).join(
      ' ',
    );
    const pdf = await renderLetterOfRequest(
      letter({ request: completeMlaRequest({ facts, freeText: 'x'.repeat(500) }) }),
    );
    const document = await PDFDocument.load(pdf);
    expect(document.getPageCount()).toBeGreaterThan(2);
    const text = await drawnText(pdf);
    expect(text).toContain(`Page ${document.getPageCount()} of ${document.getPageCount()}`);
    expect(text).toContain('Fact number 299');
  });

  it('draws characters the standard fonts lack as a question mark instead of failing', async () => {
    expect(winAnsi('Zoë – “Ł” 中\t!')).toBe('Zoë – “?” ?    !');
    const pdf = await renderLetterOfRequest(letter({ subject: 'Дело 中文 Łódź' }));
    expect(await drawnText(pdf)).toContain('???? ?? ?ódź'.replace('ź', '?'));
  });
});
