import {
  BadRequestException,
  ConflictException,
  Injectable,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import { uuidV7 } from '@comity/protocol';
import type { Principal } from '../auth/principal';
import { AuditLog } from '../auth/audit-log.service';
import { Clock } from '../common/clock';
import { SenderCopies } from '../content/sender-copies';
import {
  RequestDraftRepository,
  type DraftPurpose,
  type RequestDraftRecord,
} from '../persistence/request-draft.repository';
import type { DraftView, SaveDraftDto } from './drafts.dto';

/** The largest form kept (its JSON): a draft's attachments are uploads, referenced by id. */
const FORM_MAX_CHARS = 1_000_000;

/** What is sealed: the form, bound to its row so that a sealed form moved to another row fails. */
interface SealedForm {
  id: string;
  owner: string;
  name: string;
  form: Record<string, unknown>;
}

/**
 * Requests being written (drafts: each clerk's own) and the reusable fields of an authority
 * (templates: shared by its clerks). Sealed at rest under the node's data key, like the copies
 * of sent content; the list shows kind, name and dates.
 */
@Injectable()
export class DraftsService {
  constructor(
    private readonly drafts: RequestDraftRepository,
    private readonly sealer: SenderCopies,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  async list(purpose: DraftPurpose, principal: Principal): Promise<DraftView[]> {
    const rows = await this.drafts.list(this.scope(purpose, principal));
    return Promise.all(
      rows.map(async (row) => {
        const view = await this.view(row);
        delete view.form; // lists carry names, not forms
        return view;
      }),
    );
  }

  async get(purpose: DraftPurpose, id: string, principal: Principal): Promise<DraftView> {
    return this.view(await this.require(purpose, id, principal));
  }

  async create(
    purpose: DraftPurpose,
    input: SaveDraftDto,
    principal: Principal,
  ): Promise<DraftView> {
    const name = this.nameOf(purpose, input);
    const id = uuidV7();
    const now = this.clock.now();
    const row = await this.drafts.insert({
      id,
      purpose,
      owner: principal.id,
      authority: this.authorityOf(principal),
      kind: input.kind,
      sealed: await this.seal({ id, owner: principal.id, name, form: input.form }),
      createdAt: now,
      updatedAt: now,
    });
    await this.record(principal, `${purpose}.saved`, `${purpose} ${id} (${input.kind}), new`);
    return this.view(row);
  }

  async update(
    purpose: DraftPurpose,
    id: string,
    input: SaveDraftDto,
    principal: Principal,
  ): Promise<DraftView> {
    const existing = await this.require(purpose, id, principal);
    const revision = input.revision ?? existing.revision;
    const name = this.nameOf(purpose, input);
    const updated = await this.drafts.update(id, revision, {
      kind: input.kind,
      // Bound to the original owner: a template edited by a colleague stays the authority's.
      sealed: await this.seal({ id, owner: existing.owner, name, form: input.form }),
      updatedAt: this.clock.now(),
    });
    if (!updated) {
      throw new ConflictException(
        `${purpose} ${id} was saved elsewhere since revision ${revision}: reload it before saving`,
      );
    }
    await this.record(
      principal,
      `${purpose}.saved`,
      `${purpose} ${id} (${input.kind}), revision ${updated.revision}`,
    );
    return this.view(updated);
  }

  async remove(purpose: DraftPurpose, id: string, principal: Principal): Promise<void> {
    await this.require(purpose, id, principal);
    await this.drafts.delete(id);
    await this.record(principal, `${purpose}.deleted`, `${purpose} ${id}`);
  }

  /** Who wrote or removed which draft, never what is in it. */
  private record(principal: Principal, action: string, reason: string): Promise<void> {
    return this.audit.action({
      principal: principal.id,
      role: principal.role,
      action,
      outcome: 'done',
      reason,
    });
  }

  private scope(purpose: DraftPurpose, principal: Principal) {
    return { purpose, authority: this.authorityOf(principal), owner: principal.id };
  }

  private authorityOf(principal: Principal): string {
    // Only clerks reach these routes (@Roles), and every clerk acts for an authority.
    if (principal.authority === null) throw new NotFoundException('no authority');
    return principal.authority;
  }

  private nameOf(purpose: DraftPurpose, input: SaveDraftDto): string {
    const name = input.name?.trim() ?? '';
    if (purpose === 'template' && name === '') {
      throw new BadRequestException('a template needs a name');
    }
    if (JSON.stringify(input.form).length > FORM_MAX_CHARS) {
      throw new PayloadTooLargeException(`the form is larger than ${FORM_MAX_CHARS} characters`);
    }
    return name;
  }

  private async require(
    purpose: DraftPurpose,
    id: string,
    principal: Principal,
  ): Promise<RequestDraftRecord> {
    const row = await this.drafts.find(id.toLowerCase(), this.scope(purpose, principal));
    if (!row) throw new NotFoundException(`no ${purpose} ${id} of yours`);
    return row;
  }

  private async seal(form: SealedForm): Promise<string> {
    return this.sealer.sealNote(JSON.stringify(form));
  }

  private async view(row: RequestDraftRecord): Promise<DraftView> {
    const text = await this.sealer.openNote(row.sealed);
    const sealed = text === null ? null : (JSON.parse(text) as SealedForm);
    if (sealed === null || sealed.id !== row.id || sealed.owner !== row.owner) {
      throw new ConflictException(
        `${row.purpose} ${row.id} cannot be opened (its data key is gone or the row was altered)`,
      );
    }
    return {
      id: row.id,
      purpose: row.purpose,
      kind: row.kind,
      name: sealed.name,
      owner: row.owner,
      revision: row.revision,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      form: sealed.form,
    };
  }
}
