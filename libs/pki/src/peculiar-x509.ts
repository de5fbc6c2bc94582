// @peculiar/x509 resolves its ASN.1 parsers through tsyringe, which needs the Reflect
// metadata polyfill loaded first; loading both here keeps that order in one place.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node 20's WebCrypto signs with Ed25519 and knows X25519 keys, which node-forge cannot.
x509.cryptoProvider.set(webcrypto);

export { x509 };
