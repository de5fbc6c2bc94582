import {
  checkEndpointReachable,
  checkEndpointUrl,
  isPublicAddress,
  postToEndpoint,
} from './webhook-endpoint';

const development = { environment: 'development' as const, allowedHosts: [] };
const production = { environment: 'production' as const, allowedHosts: [] };

describe('webhook endpoints', () => {
  it.each([
    '10.0.0.1',
    '127.0.0.1',
    '169.254.169.254',
    '172.16.5.4',
    '192.168.1.1',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
  ])('counts %s as non-public', (address) => expect(isPublicAddress(address)).toBe(false));

  it.each(['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888', '::ffff:808:808'])(
    'counts %s as public',
    (address) => expect(isPublicAddress(address)).toBe(true),
  );

  it('requires HTTPS in production, refuses credentials, fragments and other schemes', () => {
    expect(checkEndpointUrl('http://example.org/hook', development).host).toBe('example.org');
    expect(() => checkEndpointUrl('http://example.org/hook', production)).toThrow('must use HTTPS');
    expect(checkEndpointUrl('https://example.org/hook', production).protocol).toBe('https:');
    expect(() => checkEndpointUrl('https://a:b@example.org/', production)).toThrow(
      'user name or password',
    );
    expect(() => checkEndpointUrl('https://example.org/#x', production)).toThrow('fragment');
    expect(() => checkEndpointUrl('file:///etc/passwd', development)).toThrow('http or https');
    expect(() => checkEndpointUrl('not a url', development)).toThrow('not an absolute URL');
  });

  it('refuses a loopback or private host unless it is allow-listed', async () => {
    await expect(
      checkEndpointReachable(new URL('http://127.0.0.1:9/'), development),
    ).rejects.toThrow('non-public');
    await expect(checkEndpointReachable(new URL('http://[::1]:9/'), development)).rejects.toThrow(
      'non-public',
    );
    await expect(
      checkEndpointReachable(new URL('http://localhost:9/'), development),
    ).rejects.toThrow('non-public');
    await expect(
      checkEndpointReachable(new URL('http://127.0.0.1:9/'), {
        ...development,
        allowedHosts: ['127.0.0.1'],
      }),
    ).resolves.toBeUndefined();
  });

  it('does not deliver over plain HTTP in production, even to a subscription made before', async () => {
    await expect(
      postToEndpoint(new URL('http://example.org/hook'), {}, '{}', {
        ...production,
        timeoutMs: 1000,
      }),
    ).rejects.toThrow('not HTTPS');
  });
});
