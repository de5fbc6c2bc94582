import { parseJsonObjectStrict } from './index';

describe('parseJsonObjectStrict', () => {
  test('parses every JSON value type inside an object', () => {
    expect(
      parseJsonObjectStrict(
        '{"s":"a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00","n":-1.5e3,"z":0,"t":true,"f":false,"u":null,"a":[1,[2],{}],"o":{"k":"v"}}',
        'h',
      ),
    ).toEqual({
      s: 'a"\\/\b\f\n\r\té😀',
      n: -1500,
      z: 0,
      t: true,
      f: false,
      u: null,
      a: [1, [2], {}],
      o: { k: 'v' },
    });
  });

  test('agrees with JSON.parse on UTF-8 bytes', () => {
    const text = '{"name":"Ελλάδα","list":[1,2,3]}';
    expect(parseJsonObjectStrict(Buffer.from(text), 'h')).toEqual(JSON.parse(text));
  });

  test.each([
    ['a duplicate member', '{"a":1,"a":1}'],
    ['a duplicate spelled with an escape', '{"a":1,"\\u0061":2}'],
    ['a duplicate in a nested object', '{"o":{"a":1,"a":2}}'],
    ['a duplicate in an object inside an array', '{"l":[{"a":1,"a":2}]}'],
    ['a top-level array', '[1]'],
    ['a top-level number', '1'],
    ['an empty document', ''],
    ['a leading zero', '{"n":01}'],
    ['a bare dot number', '{"n":.5}'],
    ['a plus sign', '{"n":+1}'],
    ['NaN', '{"n":NaN}'],
    ['an overflowing number', '{"n":1e400}'],
    ['a comment', '{"a":1/*x*/}'],
    ['an unquoted name', '{a:1}'],
    ['an unterminated string', '{"a":"b}'],
    ['an invalid escape', '{"a":"\\x41"}'],
    ['a short \\u escape', '{"a":"\\u41"}'],
    ['a lone low surrogate', '{"a":"\\udc00"}'],
    ['a high surrogate followed by a non-surrogate', '{"a":"\\ud800\\u0041"}'],
    ['a literal lone surrogate', '{"a":"\ud800"}'],
    ['a tab inside a string', '{"a":"\t"}'],
    ['a non-JSON whitespace (NBSP)', '{\u00a0"a":1}'],
    ['a misspelt literal', '{"a":tru}'],
    ['two objects', '{}{}'],
  ])('rejects %s', (_what, text) => {
    expect(() => parseJsonObjectStrict(text, 'JWS protected header')).toThrow(
      expect.objectContaining({
        code: 'malformed',
        message: expect.stringContaining('JWS protected header'),
      }),
    );
  });

  test.each([
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
    ['an overlong UTF-8 encoding', Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d])],
    ['a UTF-8 byte-order mark', Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])],
  ])('rejects %s', (_what, bytes) => {
    expect(() => parseJsonObjectStrict(bytes, 'h')).toThrow(
      expect.objectContaining({ code: 'malformed' }),
    );
  });
});
