import { readFileSync } from 'node:fs';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  TimestampError,
  readCertificatesPem,
  readTimestampResponse,
  timestampRequest,
} from '@comity/pki';
import type { X509Certificate } from 'node:crypto';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

const TIMEOUT_MS = 15_000;

/**
 * RFC 3161 time-stamps on checkpoints from the TSA of COMITY_TSA_URL: the token is checked
 * (for these bytes, this request's nonce, a time-stamping certificate, and the TSA's CA when
 * COMITY_TSA_CA is set) before it is kept. A TSA that fails costs the checkpoint its token, not
 * the checkpoint: the next one asks again.
 */
@Injectable()
export class CheckpointTimestamps {
  private readonly logger = new Logger(CheckpointTimestamps.name);
  private readonly anchors: X509Certificate[] | undefined;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    const caPath = config.timestamping?.caPath;
    this.anchors = caPath ? readCertificatesPem(readFileSync(caPath, 'utf8')) : undefined;
  }

  async stamp(data: Buffer): Promise<Buffer | null> {
    const tsa = this.config.timestamping;
    if (!tsa) return null;
    const request = timestampRequest(data);
    try {
      const response = await fetch(tsa.url, {
        method: 'POST',
        headers: { 'content-type': 'application/timestamp-query' },
        body: request.der,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      if (!response.ok) throw new TimestampError(`the TSA answered ${response.status}`);
      const { token } = readTimestampResponse(
        Buffer.from(await response.arrayBuffer()),
        request,
        data,
        this.anchors,
      );
      return token;
    } catch (error) {
      this.logger.warn(`checkpoint time-stamp: ${(error as Error).message}`);
      return null;
    }
  }
}
