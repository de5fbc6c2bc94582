import { PDFDocument, PDFFont, PDFPage, StandardFonts, rgb } from 'pdf-lib';
import {
  ASSISTANCE_TYPE_LABELS,
  requestSections,
  type RequestKind,
  type StructuredRequest,
} from '@comity/protocol';

/** One side of the letter: the State and the central authority, with their directory names. */
export interface LetterParty {
  state: string;
  stateName: string;
  authority: string;
  authorityName: string;
}

export interface LetterOfRequest {
  kind: RequestKind;
  from: LetterParty;
  to: LetterParty;
  subject: string;
  legalBasis: string;
  urgency: 'routine' | 'urgent' | 'immediate';
  deadline: string | null;
  request: StructuredRequest;
  /** The message id once sent; null prints the letter as a draft. */
  reference: string | null;
  date: Date;
}

const KIND_TITLES: Record<RequestKind, string> = {
  mla_request: 'Request for mutual legal assistance',
  extradition_request: 'Request for extradition',
  provisional_arrest_request: 'Request for provisional arrest',
  asset_recovery_request: 'Request for the recovery of assets',
};

const PAGE = { width: 595.28, height: 841.89, margin: 56 } as const;
const SIZE = { title: 16, heading: 10.5, body: 10.5, small: 8.5 } as const;
const LEADING = 1.35;

/**
 * The printable letter of request: an A4 PDF laid out from the structured content with the
 * standard Helvetica fonts. The output depends only on the input (the dates in the file's
 * metadata are the letter's date), so the same draft prints to the same bytes.
 */
export async function renderLetterOfRequest(letter: LetterOfRequest): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(`${KIND_TITLES[letter.kind]} — ${winAnsi(letter.subject)}`);
  pdf.setAuthor(winAnsi(letter.from.authorityName));
  pdf.setCreator('Comity gateway');
  pdf.setProducer('Comity gateway');
  pdf.setCreationDate(letter.date);
  pdf.setModificationDate(letter.date);
  pdf.setLanguage(letter.request.language || 'en');
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const writer = new PageWriter(pdf, regular, bold, letter.reference === null);

  writer.paragraph(`${letter.from.authorityName}, ${letter.from.stateName}`, bold, SIZE.body);
  writer.paragraph(`To: ${letter.to.authorityName}, ${letter.to.stateName}`, regular, SIZE.body);
  writer.paragraph(`Date: ${letter.date.toISOString().slice(0, 10)}`, regular, SIZE.body);
  writer.paragraph(`Reference: ${letter.reference ?? 'draft, not sent'}`, regular, SIZE.body);
  writer.space(SIZE.body);
  writer.paragraph(KIND_TITLES[letter.kind], bold, SIZE.title);
  writer.paragraph(letter.subject, bold, SIZE.heading + 1);
  writer.space(SIZE.body / 2);
  const particulars = [
    letter.legalBasis ? `Legal basis: ${letter.legalBasis}` : '',
    `Urgency: ${letter.urgency}${letter.deadline ? `, to be executed by ${letter.deadline}` : ''}`,
    letter.request.assistance.length > 0 && letter.kind !== 'extradition_request'
      ? `Types of assistance: ${letter.request.assistance.map((t) => ASSISTANCE_TYPE_LABELS[t]).join('; ')}`
      : '',
    letter.request.language ? `Language of the request: ${letter.request.language}` : '',
  ].filter((line) => line.length > 0);
  for (const line of particulars) writer.paragraph(line, regular, SIZE.body);
  writer.space(SIZE.body);

  // The body follows the same sections, in the same order, as the text the recipient receives.
  for (const section of requestSections(letter.request)) {
    writer.keepTogether(SIZE.heading * LEADING * 3);
    writer.paragraph(section.title, bold, SIZE.heading);
    for (const line of section.text.split('\n')) writer.paragraph(line, regular, SIZE.body);
    writer.space(SIZE.body / 2);
  }

  writer.space(SIZE.body * 2);
  writer.paragraph(`For ${letter.from.authorityName}`, regular, SIZE.body);
  writer.finish();
  return Buffer.from(await pdf.save({ useObjectStreams: false }));
}

/** Lays text out top to bottom, wrapping lines and starting new pages as needed. */
class PageWriter {
  private readonly pages: PDFPage[] = [];
  private page!: PDFPage;
  private y = 0;

  constructor(
    private readonly pdf: PDFDocument,
    private readonly regular: PDFFont,
    private readonly bold: PDFFont,
    private readonly draft: boolean,
  ) {
    this.newPage();
  }

  paragraph(text: string, font: PDFFont, size: number): void {
    const width = PAGE.width - 2 * PAGE.margin;
    for (const line of wrap(winAnsi(text), font, size, width)) {
      this.ensure(size * LEADING);
      this.page.drawText(line, { x: PAGE.margin, y: this.y - size, size, font });
      this.y -= size * LEADING;
    }
  }

  space(points: number): void {
    this.y -= points;
  }

  keepTogether(points: number): void {
    this.ensure(points);
  }

  /** Page numbers and, for a draft, the marker on every page. */
  finish(): void {
    this.pages.forEach((page, index) => {
      const footer = `Page ${index + 1} of ${this.pages.length}`;
      const width = this.regular.widthOfTextAtSize(footer, SIZE.small);
      page.drawText(footer, {
        x: PAGE.width - PAGE.margin - width,
        y: PAGE.margin / 2,
        size: SIZE.small,
        font: this.regular,
        color: rgb(0.35, 0.35, 0.35),
      });
      if (this.draft) {
        page.drawText('DRAFT', {
          x: PAGE.margin,
          y: PAGE.margin / 2,
          size: SIZE.small,
          font: this.bold,
          color: rgb(0.7, 0.1, 0.1),
        });
      }
    });
  }

  private ensure(points: number): void {
    if (this.y - points < PAGE.margin) this.newPage();
  }

  private newPage(): void {
    this.page = this.pdf.addPage([PAGE.width, PAGE.height]);
    this.pages.push(this.page);
    this.y = PAGE.height - PAGE.margin;
  }
}

function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  if (text.length === 0) return [''];
  const lines: string[] = [];
  const indent = /^\s*/.exec(text)?.[0] ?? '';
  let line = '';
  for (const word of text.trim().split(/\s+/)) {
    const candidate = line.length === 0 ? indent + word : `${line} ${word}`;
    if (font.widthOfTextAtSize(candidate, size) <= width) {
      line = candidate;
      continue;
    }
    if (line.length > 0) lines.push(line);
    // A single word wider than the line (a long reference, an URL) is cut where it must be.
    let rest = indent + word;
    while (font.widthOfTextAtSize(rest, size) > width) {
      let cut = rest.length - 1;
      while (cut > 1 && font.widthOfTextAtSize(rest.slice(0, cut), size) > width) cut--;
      lines.push(rest.slice(0, cut));
      rest = indent + rest.slice(cut);
    }
    line = rest;
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

/** The characters beyond Latin-1 that WinAnsi (the standard fonts' encoding) still holds. */
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

/** Text the standard fonts can draw: tabs to spaces, other characters they lack to '?'. */
export function winAnsi(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC').replace(/\t/g, '    ')) {
    const code = char.codePointAt(0) ?? 0;
    const printable = (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff);
    out += printable || WIN_ANSI_EXTRA.has(char) ? char : '?';
  }
  return out;
}
