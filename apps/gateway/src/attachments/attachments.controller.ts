import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Logger,
  Param,
  PayloadTooLargeException,
  BadRequestException,
  Post,
  Put,
  Req,
  Res,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal, Roles } from '../auth/roles.decorator';
import { AttachmentDownloads, type Download } from './attachment-downloads.service';
import { AttachmentUploads } from './attachment-uploads.service';
import { AttachmentView, ChunkStoredView } from './attachment-views';
import {
  AttachmentIdParamDto,
  ChunkParamDto,
  CreateAttachmentDto,
  MessageAttachmentParamDto,
} from './attachments.dto';

/**
 * Large files, uploaded to this node in chunks before the request that carries them is
 * submitted (`attachmentRefs`). An interrupted upload resumes: GET says which chunks are
 * missing, PUT them again, then complete.
 */
@ApiTags('large attachments')
@Controller('v1/attachments')
export class AttachmentsController {
  constructor(private readonly uploads: AttachmentUploads) {}

  @Post()
  @Roles('clerk')
  @HttpCode(201)
  @ApiOperation({ summary: 'Start an upload: the node answers with the chunk size to use' })
  @ApiCreatedResponse({ type: AttachmentView })
  create(
    @Body() input: CreateAttachmentDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<AttachmentView> {
    return this.uploads.create(principal, input);
  }

  @Put(':id/chunks/:index')
  @Roles('clerk')
  @ApiOperation({
    summary:
      'Upload chunk {index}: exactly chunkSize bytes (the last chunk: the rest), raw application/octet-stream',
  })
  @ApiConsumes('application/octet-stream')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({ type: ChunkStoredView })
  async putChunk(
    @Param() { id, index }: ChunkParamDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ChunkStoredView> {
    if (!request.is('application/octet-stream') || request.readableEnded) {
      response.setHeader('connection', 'close');
      throw new UnsupportedMediaTypeException(
        'a chunk is sent as the raw body, Content-Type: application/octet-stream',
      );
    }
    const expected = await this.uploads.expectedChunkBytes(principal, id, index);
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) !== expected) {
      // Refused before reading: the connection closes instead of taking an oversized body.
      response.setHeader('connection', 'close');
      const message = `chunk ${index} must be exactly ${expected} bytes; Content-Length says ${declared}`;
      throw Number(declared) > expected
        ? new PayloadTooLargeException(message)
        : new BadRequestException(message);
    }
    const body = await readBody(request, expected).catch((error: unknown) => {
      response.setHeader('connection', 'close');
      throw error;
    });
    return this.uploads.putChunk(principal, id, index, body);
  }

  @Get(':id')
  @Roles('clerk')
  @ApiOperation({
    summary: 'An upload: chunks received and missing (to resume), digest once complete',
  })
  @ApiOkResponse({ type: AttachmentView })
  status(
    @Param() { id }: AttachmentIdParamDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<AttachmentView> {
    return this.uploads.status(principal, id);
  }

  @Post(':id/complete')
  @Roles('clerk')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Finish an upload: every chunk present; the file can then be named in attachmentRefs',
  })
  @ApiOkResponse({ type: AttachmentView })
  complete(
    @Param() { id }: AttachmentIdParamDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<AttachmentView> {
    return this.uploads.complete(principal, id);
  }
}

/** Downloads of large attachments, decrypted on the way out (constant memory, known length). */
@ApiTags('large attachments')
@Controller('v1')
export class AttachmentDownloadsController {
  private readonly logger = new Logger(AttachmentDownloadsController.name);

  constructor(private readonly downloads: AttachmentDownloads) {}

  @Get('inbound-messages/:id/attachments/:index')
  @Roles('clerk')
  @ApiOperation({ summary: 'Large attachment {index} of a delivered request, decrypted' })
  @ApiProduces('application/octet-stream')
  async inbound(
    @Param() { id, index }: MessageAttachmentParamDto,
    @CurrentPrincipal() principal: Principal,
    @Res() response: Response,
  ): Promise<void> {
    await this.send(await this.downloads.inbound(id, index, principal), response);
  }

  @Get('outbound-messages/:id/attachments/:index')
  @Roles('clerk')
  @ApiOperation({ summary: 'Large attachment {index} of a request this node sent (own copy)' })
  @ApiProduces('application/octet-stream')
  async outbound(
    @Param() { id, index }: MessageAttachmentParamDto,
    @CurrentPrincipal() principal: Principal,
    @Res() response: Response,
  ): Promise<void> {
    await this.send(await this.downloads.outbound(id, index, principal), response);
  }

  private async send({ ref, body }: Download, response: Response): Promise<void> {
    response.status(200);
    response.setHeader('content-type', ref.mediaType);
    response.setHeader('content-length', String(ref.size));
    response.setHeader('content-disposition', contentDisposition(ref.filename));
    response.setHeader('x-content-type-options', 'nosniff');
    // RFC 9530: the digest of the whole file, as signed by the sender.
    response.setHeader(
      'repr-digest',
      `sha-256=:${Buffer.from(ref.sha256, 'base64url').toString('base64')}:`,
    );
    try {
      await pipeline(Readable.from(body, { objectMode: false }), response);
    } catch (error) {
      // Headers are gone: cut the connection so the client sees a short body, never a wrong one.
      this.logger.warn(`download of ${ref.id} stopped: ${(error as Error).message}`);
      response.destroy();
    }
  }
}

/** The body of a chunk PUT: exactly `expected` bytes, read into one Buffer (never more is held). */
function readBody(request: Request, expected: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (request.destroyed) {
      reject(new BadRequestException('the upload was interrupted'));
      return;
    }
    // Allocated when the first bytes come, not for a client that only opened the request.
    let body: Buffer | null = null;
    let length = 0;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      request.removeListener('data', onData);
      reject(error);
    };
    const onData = (part: Buffer): void => {
      if (length + part.length > expected) {
        fail(new PayloadTooLargeException(`a chunk is at most ${expected} bytes here`));
        request.pause();
        return;
      }
      body ??= Buffer.allocUnsafe(expected);
      part.copy(body, length);
      length += part.length;
    };
    request.on('data', onData);
    request.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(!body ? Buffer.alloc(0) : length === expected ? body : body.subarray(0, length));
    });
    request.once('error', fail);
    request.once('close', () => fail(new BadRequestException('the upload was interrupted')));
  });
}

function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
