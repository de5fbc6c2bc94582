import { Injectable } from '@nestjs/common';

/**
 * What the health check needs to know about the inbox consumer, which NestJS builds outside
 * dependency injection (a transport strategy): main.ts attaches it here.
 */
@Injectable()
export class TransportHealth {
  private inbox: { readonly isConsuming: boolean } | null = null;

  attachInbox(inbox: { readonly isConsuming: boolean }): void {
    this.inbox = inbox;
  }

  get inboxConsuming(): boolean {
    return this.inbox?.isConsuming ?? false;
  }
}
