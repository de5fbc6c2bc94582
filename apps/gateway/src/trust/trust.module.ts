import { Module } from '@nestjs/common';
import { DirectoryController } from './directory.controller';
import { FederationTrust } from './federation-trust';

/** What the node trusts and signs with: the trust anchor, the signed directory, its own keys. */
@Module({
  controllers: [DirectoryController],
  providers: [FederationTrust],
  exports: [FederationTrust],
})
export class TrustModule {}
