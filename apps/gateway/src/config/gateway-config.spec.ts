import { ConfigError, loadGatewayConfig } from './gateway-config';

describe('loadGatewayConfig', () => {
  const valid = {
    COMITY_STATE: 'AT',
    COMITY_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/comity_at',
    COMITY_TRUST_ANCHOR: '/keys/root.pem',
    COMITY_DIRECTORY: '/keys/directory.json',
    COMITY_CREDENTIALS_DIR: '/keys/AT',
    COMITY_API_KEYS: '/keys/AT/api-keys.json',
  };

  it('reads a valid environment with defaults', () => {
    const config = loadGatewayConfig(valid);
    expect(config.state).toBe('AT');
    expect(config.http).toEqual({
      host: '127.0.0.1',
      port: 3000,
      rateLimitPerSecond: 200,
      tls: null,
    });
    expect(config.credentials).toEqual({ kind: 'pem-directory', directory: '/keys/AT' });
    expect(config.transport.prefetch).toBe(64);
  });

  it('reads the large-attachment limits, with defaults, and refuses impossible ones', () => {
    expect(loadGatewayConfig(valid).attachments).toEqual({
      maxBytes: 2 * 1024 ** 3,
      chunkBytes: 1024 ** 2,
      maxPendingBytes: null,
      orphanChunkTtlMs: 86_400_000,
      incompleteWaitMs: 120_000,
      transferWindow: 16,
      transferBytesPerSecond: 0,
      uploadTtlMs: 7 * 86_400_000,
    });
    const set = loadGatewayConfig({
      ...valid,
      COMITY_MAX_ATTACHMENT_BYTES: String(64 * 1024 ** 2),
      COMITY_ATTACHMENT_CHUNK_BYTES: String(256 * 1024),
      COMITY_MAX_PENDING_CHUNK_BYTES: String(1024 ** 3),
    }).attachments;
    expect([set.maxBytes, set.chunkBytes, set.maxPendingBytes]).toEqual([
      64 * 1024 ** 2,
      256 * 1024,
      1024 ** 3,
    ]);
    expect(() =>
      loadGatewayConfig({
        ...valid,
        COMITY_MAX_ATTACHMENT_BYTES: '1000',
        COMITY_ATTACHMENT_CHUNK_BYTES: String(16 * 1024 ** 2),
        COMITY_ATTACHMENT_WAIT_SECONDS: '600',
      }),
    ).toThrow(
      /COMITY_MAX_ATTACHMENT_BYTES must be an integer from 1048576[\s\S]*COMITY_ATTACHMENT_CHUNK_BYTES must be an integer from 65536 to 8388608[\s\S]*COMITY_ATTACHMENT_WAIT_SECONDS/,
    );
  });

  it('reads the content retention per kind, keeps content without one, and refuses a bad one by name', () => {
    expect(loadGatewayConfig(valid).retention).toBeNull();
    const days = loadGatewayConfig({
      ...valid,
      COMITY_RETENTION_DAYS: 'mla_request=3650, extradition_request=7300,default=365,closure=keep',
    }).retention!;
    expect(days.afterMs.mla_request).toBe(3650 * 86_400_000);
    expect(days.afterMs.extradition_request).toBe(7300 * 86_400_000);
    expect(days.afterMs.reply).toBe(365 * 86_400_000);
    expect(days.afterMs.closure).toBeUndefined();
    expect(days.sweepIntervalMs).toBe(3_600_000);
    // Without a default, a kind not named is kept.
    const some = loadGatewayConfig({ ...valid, COMITY_RETENTION_SECONDS: 'mla_request=5' });
    expect(some.retention!.afterMs).toEqual({ mla_request: 5000 });
    for (const [variables, problem] of [
      [
        { COMITY_RETENTION_DAYS: 'mla_request=0' },
        'COMITY_RETENTION_DAYS: mla_request must be an integer from 1 to 36500, or keep (got "0")',
      ],
      [
        { COMITY_RETENTION_DAYS: 'mla_request=ten' },
        'COMITY_RETENTION_DAYS: mla_request must be an integer',
      ],
      [
        { COMITY_RETENTION_DAYS: 'letters=10' },
        'COMITY_RETENTION_DAYS: "letters" is not a message kind',
      ],
      [
        { COMITY_RETENTION_DAYS: 'mla_request' },
        'COMITY_RETENTION_DAYS: "mla_request" is not kind=number',
      ],
      [
        { COMITY_RETENTION_DAYS: 'default=1,default=2' },
        'COMITY_RETENTION_DAYS: default is given twice',
      ],
      [
        { COMITY_RETENTION_DAYS: 'default=1', COMITY_RETENTION_SECONDS: 'default=1' },
        'are both set',
      ],
      [
        { COMITY_RETENTION_DAYS: 'default=1', COMITY_RETENTION_SWEEP_SECONDS: '0' },
        'COMITY_RETENTION_SWEEP_SECONDS must be an integer',
      ],
    ] as const) {
      expect(() => loadGatewayConfig({ ...valid, ...variables })).toThrow(problem);
    }
  });

  it('reports every problem at once, naming each variable', () => {
    let error: unknown;
    try {
      loadGatewayConfig({
        COMITY_STATE: 'austria',
        COMITY_HTTP_PORT: '99999',
        COMITY_DATABASE_URL: 'mysql://x',
        COMITY_PREFETCH: 'many',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of [
      'COMITY_STATE',
      'COMITY_HTTP_PORT',
      'COMITY_DATABASE_URL',
      'COMITY_PREFETCH',
      'COMITY_TRUST_ANCHOR',
      'COMITY_DIRECTORY',
      'COMITY_CREDENTIALS_DIR',
      'COMITY_API_KEYS',
    ]) {
      expect(problems).toContain(name);
    }
  });

  it('switches to PKCS#12 key stores when COMITY_SIGNING_PKCS12 is set, and then needs the password', () => {
    expect(() =>
      loadGatewayConfig({
        ...valid,
        COMITY_SIGNING_PKCS12: '/keys/sign.p12',
        COMITY_ENCRYPTION_PKCS12: '/keys/enc.p12',
      }),
    ).toThrow(/COMITY_PKCS12_PASSWORD is required/);
  });
});
