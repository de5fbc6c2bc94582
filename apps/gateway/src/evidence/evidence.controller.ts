import {
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Res,
  StreamableFile,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../auth/roles.decorator';
import type { StoredCheckpoint } from '../persistence/evidence-log.repository';
import { EvidenceBundles } from './evidence-bundles.service';
import { EvidenceLog } from './evidence-log.service';

class CheckpointView {
  size!: number;
  root!: string;
  signedAt!: string;
  /** The C2SP signed note. */
  note!: string;
}

function viewOf(checkpoint: StoredCheckpoint): CheckpointView {
  return {
    size: checkpoint.size,
    root: checkpoint.root.toString('base64'),
    signedAt: checkpoint.signedAt.toISOString(),
    note: checkpoint.note,
  };
}

/** The node's evidence log: its signed checkpoints, and the audit that recomputes it. */
@ApiTags('evidence')
@Controller('v1/evidence')
export class EvidenceController {
  constructor(
    private readonly log: EvidenceLog,
    private readonly bundles: EvidenceBundles,
  ) {}

  @Get('checkpoint')
  @Roles('auditor', 'operator')
  @ApiOperation({
    summary: "The log's latest signed checkpoint (C2SP tlog-checkpoint, signed note)",
  })
  @ApiProduces('text/plain')
  async latest(@Res() response: Response): Promise<void> {
    const latest = await this.log.latest();
    if (!latest) throw new NotFoundException('the evidence log has no checkpoint yet');
    response.status(200).type('text/plain; charset=utf-8').send(latest.note);
  }

  @Post('checkpoints')
  @Roles('auditor', 'operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign a checkpoint now (if the log grew since the last one)' })
  @ApiOkResponse({ type: CheckpointView })
  async sign(): Promise<CheckpointView> {
    const latest = await this.log.checkpoint();
    if (!latest) throw new NotFoundException('the evidence log is empty');
    return viewOf(latest);
  }

  @Get('audit')
  @Roles('auditor')
  @ApiOperation({
    summary:
      'Recompute the log from the database: every leaf from its row, every hash, every checkpoint',
  })
  audit(): ReturnType<EvidenceLog['audit']> {
    return this.log.audit();
  }

  @Get(':id')
  @Roles('auditor')
  @ApiOperation({
    summary:
      "The evidence bundle (zip) of a message or of a case (its request and every case message): envelopes, receipts, the log's leaves with inclusion proofs, checkpoint, certificates, directory",
  })
  @ApiProduces('application/zip')
  async bundle(@Param('id', new ParseUUIDPipe()) id: string): Promise<StreamableFile> {
    const bytes = await this.bundles.of(id.toLowerCase());
    return new StreamableFile(bytes, {
      type: 'application/zip',
      disposition: `attachment; filename="evidence-${id}.zip"`,
    });
  }
}
